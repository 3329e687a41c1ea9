#pragma once

// What decode publishes about its input as side data (pipeline/side_data.h) for the stages
// after it: the container's metadata, the video stream it decodes, every other stream (audio,
// subtitles, data) with its codec parameters, and those streams' packets as decode demuxes
// them. Decode is the only stage that opens the input, so a URL is fetched once, standard
// input can be read at all, and decode's `stream`, timeout and retry settings hold for
// everything read from it. encode's stream copy (stages/io/stream_copy.h) is the consumer.
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/side_data.h"
#include "stages/io/libav_error.h"

namespace framepipe::stages {

struct DictionaryDeleter {
  void operator()(AVDictionary* dictionary) const { av_dict_free(&dictionary); }
};
struct CodecParametersDeleter {
  void operator()(AVCodecParameters* parameters) const { avcodec_parameters_free(&parameters); }
};

// One stream of the input as its demuxer described it, copied so it outlives the demuxer.
struct InputStream {
  int index = -1;                                                       // in the input container
  std::unique_ptr<AVCodecParameters, CodecParametersDeleter> codecpar;  // codec, colour, layout
  AVRational time_base{0, 1};  // of its packets' timestamps
  int disposition = 0;
  std::unique_ptr<AVDictionary, DictionaryDeleter> metadata;  // language, title, ...

  // A copy of `stream`'s description; throws std::bad_alloc.
  static InputStream of(const AVStream& stream);
};

// The packets of the streams one consumer asked for, in demux order. Decode pushes on its
// thread while the consumer takes on its own; nothing waits: the consumer takes what has come.
// Decode reads ahead of the consumer only as far as the frames in flight allow, so the queue
// stays short; a consumer that stops taking overflows it past kMaxBytes, and then the queue
// drops further packets and says so (overflowed()), rather than hold the whole input in memory.
class PacketQueue {
 public:
  static constexpr std::size_t kMaxBytes = std::size_t{256} << 20;

  // A reference to `packet`'s data (no copy of the bytes); throws std::bad_alloc.
  void push(const AVPacket& packet);
  // No more packets will come: decode read the whole input.
  void end();
  // The oldest packet, or null when none has come yet (or none will: ended()).
  std::unique_ptr<AVPacket, libav::PacketDeleter> take();
  bool ended() const;
  bool overflowed() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::unique_ptr<AVPacket, libav::PacketDeleter>> packets_;
  std::size_t bytes_ = 0;
  bool ended_ = false;
  bool overflowed_ = false;
};

class DemuxedInput {
 public:
  std::string path;                                           // as the run names it, for messages
  std::unique_ptr<AVDictionary, DictionaryDeleter> metadata;  // the container's
  InputStream video;  // the stream decode decodes (its `stream` parameter picks it)
  // The rotation the file's display matrix gives the video (degrees clockwise), and whether
  // decode turned the pictures upright by it.
  int display_rotation = 0;
  bool autorotated = false;
  std::vector<InputStream> others;  // every other stream, in container order
  std::size_t stream_count = 0;     // the container's streams when opened

  // For a consumer's open(): the packets of these streams (indices into the container), from
  // the first. Packets are kept only for subscribers, so a run without one stores none; two
  // consumers each get their own queue (the packets' bytes are shared, not copied). Throws
  // std::logic_error once decode has started reading.
  std::shared_ptr<PacketQueue> subscribe(const std::vector<int>& streams);

  // For decode, before it reads: whether any consumer asked for the stream's packets.
  bool wanted(int stream);
  // For decode: hands `packet` to every consumer that asked for its stream.
  void publish(const AVPacket& packet);
  // For decode: the input is read to its end.
  void end();

 private:
  struct Subscriber {
    std::vector<int> streams;
    std::shared_ptr<PacketQueue> queue;
  };
  mutable std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
  bool started_ = false;  // decode asked what is wanted: subscribing is over
};

// Published by decode in open().
inline constexpr SideKey<DemuxedInput> kDemuxedInput{"decode.demuxed_input"};

}  // namespace framepipe::stages
