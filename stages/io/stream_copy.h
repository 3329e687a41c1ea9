#pragma once

// The input's streams besides the decoded video (audio, subtitles), copied packet for packet
// into the encoder's output and interleaved with its video by timestamp, so they stay in sync;
// and the input's container and stream metadata. All of it comes from what decode published
// (stages/io/demuxed_input.h): the input is never opened a second time.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stages/io/demuxed_input.h"
#include "stages/io/libav_error.h"

namespace framepipe::stages {

class AudioTranscoder;

class StreamCopy {
 public:
  // copy: packet for packet where the container can hold the codec, else encode; encode: always
  // decoded and encoded again (AAC where the container holds it, else its default codec).
  enum class Audio { copy, drop, encode };
  struct Options {
    Audio audio = Audio::copy;
    bool metadata = true;  // copy container and stream metadata (title, creation_time, language)
  };

  StreamCopy();
  ~StreamCopy();
  StreamCopy(const StreamCopy&) = delete;
  StreamCopy& operator=(const StreamCopy&) = delete;

  // Adds to `muxer` an output stream for each stream of `input` it copies: every audio stream
  // (unless dropped), and every subtitle stream the container can hold; the others are dropped
  // and counted. Subscribes to the packets of those it copies, so call it in the stage's open().
  // `video` is the encoder's stream, which gets the metadata of the input's video stream.
  // Throws when an audio stream can neither be copied nor encoded for the container. Call
  // before avformat_write_header.
  void open(DemuxedInput& input, AVFormatContext* muxer, AVStream* video, Options options);
  // Writes the copied packets decode has read that come before `until` (in `time_base`), so
  // they reach the muxer interleaved with the video packet at `until`. Never waits for decode.
  void write_until(std::int64_t until, AVRational time_base);
  // Writes every copied packet left; decode has read the whole input by then.
  void write_rest();

  void close() noexcept;

  // "copied_audio_streams", "encoded_audio_streams", "copied_subtitle_streams",
  // "dropped_streams" (data, attachments, other video, subtitles the container cannot hold;
  // with audio: drop, audio too).
  std::map<std::string, double> counters() const;

 private:
  // The next packet decode has read of a copied stream into packet_; false when none has come.
  bool take_packet();
  void write_packet();

  std::string path_;
  AVFormatContext* muxer_ = nullptr;
  std::shared_ptr<PacketQueue> packets_;  // null when nothing is copied
  std::vector<AVStream*> output_of_;      // by input stream index; null when not copied
  std::vector<AVRational> time_base_of_;  // by input stream index: its packets' time base
  // By input stream index; null for streams copied as packets.
  std::vector<std::unique_ptr<AudioTranscoder>> transcoder_of_;
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet_;  // taken but not yet written
  int copied_audio_ = 0;
  int encoded_audio_ = 0;
  int copied_subtitles_ = 0;
  int dropped_ = 0;
};

}  // namespace framepipe::stages
