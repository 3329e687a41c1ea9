#include "stages/io/stream_copy.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>

extern "C" {
#include <libavutil/audio_fifo.h>
}

namespace framepipe::stages {

namespace {

// 1: the container can hold the codec; 0: it cannot; a muxer that keeps no list (negative)
// is trusted to, as the ffmpeg CLI does.
bool container_holds(const AVFormatContext* muxer, AVCodecID codec) {
  return avformat_query_codec(muxer->oformat, codec, FF_COMPLIANCE_NORMAL) != 0;
}

void copy_metadata(AVDictionary** to, const AVDictionary* from) {
  av_dict_copy(to, from, 0);
  // The input's encoder did not write this output.
  av_dict_set(to, "encoder", nullptr, 0);
}

// One sample in [-1, 1], whatever libav's sample format. Re-encoding keeps the rate and the
// channels, so only the sample type changes and no resampler (libswresample) is needed.
double sample_at(const AVFrame& frame, int channel, int index) {
  const auto format = static_cast<AVSampleFormat>(frame.format);
  const bool planar = av_sample_fmt_is_planar(format);
  const uint8_t* data = frame.extended_data[planar ? channel : 0];
  const int at = planar ? index : index * frame.ch_layout.nb_channels + channel;
  switch (av_get_packed_sample_fmt(format)) {
    case AV_SAMPLE_FMT_U8:
      return (data[at] - 128) / 128.0;
    case AV_SAMPLE_FMT_S16:
      return reinterpret_cast<const int16_t*>(data)[at] / 32768.0;
    case AV_SAMPLE_FMT_S32:
      return reinterpret_cast<const int32_t*>(data)[at] / 2147483648.0;
    case AV_SAMPLE_FMT_S64:
      return static_cast<double>(reinterpret_cast<const int64_t*>(data)[at]) /
             9223372036854775808.0;
    case AV_SAMPLE_FMT_FLT:
      return reinterpret_cast<const float*>(data)[at];
    case AV_SAMPLE_FMT_DBL:
      return reinterpret_cast<const double*>(data)[at];
    default:
      return 0;
  }
}

template <typename Int>
Int scaled(double sample) {
  const double limit = static_cast<double>(std::numeric_limits<Int>::max());
  return static_cast<Int>(std::clamp(sample * (limit + 1), -limit - 1, limit));
}

void set_sample(AVFrame& frame, int channel, int index, double sample) {
  const auto format = static_cast<AVSampleFormat>(frame.format);
  const bool planar = av_sample_fmt_is_planar(format);
  uint8_t* data = frame.extended_data[planar ? channel : 0];
  const int at = planar ? index : index * frame.ch_layout.nb_channels + channel;
  switch (av_get_packed_sample_fmt(format)) {
    case AV_SAMPLE_FMT_U8:
      data[at] = static_cast<uint8_t>(std::clamp(sample * 128 + 128, 0.0, 255.0));
      break;
    case AV_SAMPLE_FMT_S16:
      reinterpret_cast<int16_t*>(data)[at] = scaled<int16_t>(sample);
      break;
    case AV_SAMPLE_FMT_S32:
      reinterpret_cast<int32_t*>(data)[at] = scaled<int32_t>(sample);
      break;
    case AV_SAMPLE_FMT_S64:
      reinterpret_cast<int64_t*>(data)[at] = scaled<int64_t>(sample);
      break;
    case AV_SAMPLE_FMT_FLT:
      reinterpret_cast<float*>(data)[at] = static_cast<float>(sample);
      break;
    case AV_SAMPLE_FMT_DBL:
      reinterpret_cast<double*>(data)[at] = sample;
      break;
    default:
      break;
  }
}

}  // namespace

// Outside the anonymous namespace because AudioTranscoder (declared in the header) holds one.
struct AudioFifoDeleter {
  void operator()(AVAudioFifo* fifo) const { av_audio_fifo_free(fifo); }
};

// One audio stream decoded and encoded again, for a container that cannot hold its codec (or
// audio: encode). Same rate and channels; timestamps continue from the first decoded frame's.
class AudioTranscoder {
 public:
  AudioTranscoder(const InputStream& input, AVStream* output, AVFormatContext* muxer,
                  const std::string& path)
      : input_time_base_(input.time_base), output_(output), muxer_(muxer), path_(path) {
    const AVCodecParameters& source = *input.codecpar;
    const std::string what = "the " + std::string(avcodec_get_name(source.codec_id)) +
                             " audio of stream #" + std::to_string(input.index) + " of '" + path +
                             "'";
    const AVCodec* decoder = avcodec_find_decoder(source.codec_id);
    if (!decoder) throw std::runtime_error("no decoder for " + what);
    decoder_.reset(avcodec_alloc_context3(decoder));
    if (!decoder_) throw std::bad_alloc();
    libav::check(avcodec_parameters_to_context(decoder_.get(), &source),
                 "cannot set up a decoder for " + what);
    decoder_->pkt_timebase = input.time_base;
    libav::check(avcodec_open2(decoder_.get(), decoder, nullptr), "cannot decode " + what);

    const AVCodecID target =
        container_holds(muxer, AV_CODEC_ID_AAC) ? AV_CODEC_ID_AAC : muxer->oformat->audio_codec;
    const AVCodec* encoder = avcodec_find_encoder(target);
    const std::string cannot =
        "cannot encode " + what + " for container '" + muxer->oformat->name + "'";
    if (target == AV_CODEC_ID_NONE || !encoder) throw std::runtime_error(cannot);
    // Without a resampler the rate must be one the encoder takes.
    if (encoder->supported_samplerates) {
      bool found = false;
      for (const int* rate = encoder->supported_samplerates; *rate; ++rate) {
        found = found || *rate == source.sample_rate;
      }
      if (!found) {
        throw std::runtime_error(cannot + ": " + encoder->name + " does not take " +
                                 std::to_string(source.sample_rate) + " Hz");
      }
    }
    AVChannelLayout layout{};
    if (source.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&layout, source.ch_layout.nb_channels);
    } else {
      libav::check(av_channel_layout_copy(&layout, &source.ch_layout), cannot);
    }
    encoder_.reset(avcodec_alloc_context3(encoder));
    if (!encoder_) throw std::bad_alloc();
    encoder_->sample_fmt = encoder->sample_fmts ? encoder->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    encoder_->sample_rate = source.sample_rate;
    encoder_->ch_layout = layout;
    encoder_->time_base = {1, source.sample_rate};
    if (muxer->oformat->flags & AVFMT_GLOBALHEADER) {
      encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    const int ret = avcodec_open2(encoder_.get(), encoder, nullptr);
    if (ret < 0) throw std::runtime_error(cannot + ": " + libav::error_string(ret));
    libav::check(avcodec_parameters_from_context(output->codecpar, encoder_.get()),
                 "cannot describe the encoded audio");
    output->time_base = encoder_->time_base;
    fifo_.reset(av_audio_fifo_alloc(encoder_->sample_fmt, encoder_->ch_layout.nb_channels,
                                    std::max(encoder_->frame_size, 1024)));
    decoded_.reset(av_frame_alloc());
    packet_.reset(av_packet_alloc());
    if (!fifo_ || !decoded_ || !packet_) throw std::bad_alloc();
  }

  // Decodes `packet` (nullptr: the end, flushing everything) and writes what it encodes.
  void send(const AVPacket* packet) {
    // A damaged packet costs its few milliseconds of sound, as in the video decoder.
    if (avcodec_send_packet(decoder_.get(), packet) < 0) return;
    while (avcodec_receive_frame(decoder_.get(), decoded_.get()) == 0) {
      buffer(*decoded_);
      av_frame_unref(decoded_.get());
    }
    encode_buffered(packet == nullptr);
    if (!packet) encode(nullptr);
  }

 private:
  void buffer(const AVFrame& frame) {
    if (next_pts_ == AV_NOPTS_VALUE) {
      next_pts_ =
          frame.best_effort_timestamp == AV_NOPTS_VALUE
              ? 0
              : av_rescale_q(frame.best_effort_timestamp, input_time_base_, encoder_->time_base);
    }
    std::unique_ptr<AVFrame, libav::FrameDeleter> converted(av_frame_alloc());
    if (!converted) throw std::bad_alloc();
    converted->format = encoder_->sample_fmt;
    converted->nb_samples = frame.nb_samples;
    libav::check(av_channel_layout_copy(&converted->ch_layout, &encoder_->ch_layout),
                 "cannot convert audio");
    libav::check(av_frame_get_buffer(converted.get(), 0), "cannot convert audio");
    const int channels = std::min(frame.ch_layout.nb_channels, encoder_->ch_layout.nb_channels);
    for (int c = 0; c < channels; ++c) {
      for (int i = 0; i < frame.nb_samples; ++i) {
        set_sample(*converted, c, i, sample_at(frame, c, i));
      }
    }
    libav::check(
        av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(converted->extended_data),
                            frame.nb_samples),
        "cannot buffer audio");
  }

  // Encoders take fixed-size frames (1024 samples for AAC); only the last may be shorter.
  void encode_buffered(bool last) {
    const int frame_size = encoder_->frame_size > 0 ? encoder_->frame_size : 1024;
    while (av_audio_fifo_size(fifo_.get()) >= frame_size ||
           (last && av_audio_fifo_size(fifo_.get()) > 0)) {
      std::unique_ptr<AVFrame, libav::FrameDeleter> frame(av_frame_alloc());
      if (!frame) throw std::bad_alloc();
      frame->format = encoder_->sample_fmt;
      frame->nb_samples = std::min(frame_size, av_audio_fifo_size(fifo_.get()));
      libav::check(av_channel_layout_copy(&frame->ch_layout, &encoder_->ch_layout),
                   "cannot encode audio");
      libav::check(av_frame_get_buffer(frame.get(), 0), "cannot encode audio");
      av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(frame->extended_data),
                         frame->nb_samples);
      frame->pts = next_pts_;
      next_pts_ += frame->nb_samples;
      encode(frame.get());
    }
  }

  void encode(const AVFrame* frame) {
    libav::check(avcodec_send_frame(encoder_.get(), frame),
                 "cannot encode the audio of '" + path_ + "'");
    for (;;) {
      const int ret = avcodec_receive_packet(encoder_.get(), packet_.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      libav::check(ret, "cannot encode the audio of '" + path_ + "'");
      av_packet_rescale_ts(packet_.get(), encoder_->time_base, output_->time_base);
      packet_->stream_index = output_->index;
      libav::check(av_interleaved_write_frame(muxer_, packet_.get()),
                   "cannot write the audio encoded from '" + path_ + "'");
    }
  }

  AVRational input_time_base_;
  AVStream* output_;
  AVFormatContext* muxer_;
  std::string path_;
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> decoder_;
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> encoder_;
  std::unique_ptr<AVAudioFifo, AudioFifoDeleter> fifo_;
  std::unique_ptr<AVFrame, libav::FrameDeleter> decoded_;
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet_;
  std::int64_t next_pts_ = AV_NOPTS_VALUE;  // in 1/sample_rate
};

StreamCopy::StreamCopy() = default;
StreamCopy::~StreamCopy() = default;

void StreamCopy::open(DemuxedInput& input, AVFormatContext* muxer, AVStream* video,
                      Options options) {
  path_ = input.path;
  muxer_ = muxer;
  if (options.metadata) {
    copy_metadata(&muxer->metadata, input.metadata.get());
    copy_metadata(&video->metadata, input.video.metadata.get());
  }
  output_of_.assign(input.stream_count, nullptr);
  time_base_of_.assign(input.stream_count, AVRational{0, 1});
  transcoder_of_.clear();
  transcoder_of_.resize(input.stream_count);
  std::vector<int> copied;
  for (const InputStream& stream : input.others) {
    const AVCodecParameters& codec = *stream.codecpar;
    const bool audio = codec.codec_type == AVMEDIA_TYPE_AUDIO && options.audio != Audio::drop;
    const bool subtitle = codec.codec_type == AVMEDIA_TYPE_SUBTITLE;
    if (!audio && !(subtitle && container_holds(muxer, codec.codec_id))) {
      ++dropped_;
      continue;
    }
    AVStream* copy = avformat_new_stream(muxer, nullptr);
    if (!copy) throw std::bad_alloc();
    const auto index = static_cast<std::size_t>(stream.index);
    const bool encode =
        audio && (options.audio == Audio::encode || !container_holds(muxer, codec.codec_id));
    if (encode) {
      transcoder_of_[index] = std::make_unique<AudioTranscoder>(stream, copy, muxer, path_);
      ++encoded_audio_;
    } else {
      libav::check(avcodec_parameters_copy(copy->codecpar, &codec),
                   "cannot copy stream parameters");
      // The source container's tag may mean nothing in this one; the muxer picks its own.
      copy->codecpar->codec_tag = 0;
      copy->time_base = stream.time_base;  // a hint; the muxer may pick another
      ++(audio ? copied_audio_ : copied_subtitles_);
    }
    copy->disposition = stream.disposition;
    if (options.metadata) copy_metadata(&copy->metadata, stream.metadata.get());
    output_of_[index] = copy;
    time_base_of_[index] = stream.time_base;
    copied.push_back(stream.index);
  }
  if (!copied.empty()) packets_ = input.subscribe(copied);
}

bool StreamCopy::take_packet() {
  if (packets_->overflowed()) {
    throw std::runtime_error("the streams copied from '" + path_ + "' fell more than " +
                             std::to_string(PacketQueue::kMaxBytes >> 20) +
                             " MiB behind the video (does the video end long before the "
                             "audio?); set audio: drop to leave them out");
  }
  packet_ = packets_->take();
  return packet_ != nullptr;
}

void StreamCopy::write_packet() {
  const auto index = static_cast<std::size_t>(packet_->stream_index);
  if (const auto& transcoder = transcoder_of_[index]) {
    transcoder->send(packet_.get());
    packet_.reset();
    return;
  }
  const AVStream* to = output_of_[index];
  av_packet_rescale_ts(packet_.get(), time_base_of_[index], to->time_base);
  packet_->stream_index = to->index;
  packet_->pos = -1;
  // Takes over the packet's data and leaves it blank.
  const int ret = av_interleaved_write_frame(muxer_, packet_.get());
  packet_.reset();
  libav::check(ret, "cannot write the streams copied from '" + path_ + "'");
}

void StreamCopy::write_until(std::int64_t until, AVRational time_base) {
  if (!packets_) return;
  while (packet_ || take_packet()) {
    const std::int64_t at = packet_->dts != AV_NOPTS_VALUE ? packet_->dts : packet_->pts;
    const AVRational at_base = time_base_of_[static_cast<std::size_t>(packet_->stream_index)];
    if (at != AV_NOPTS_VALUE && av_compare_ts(at, at_base, until, time_base) > 0) return;
    write_packet();
  }
}

void StreamCopy::write_rest() {
  if (!packets_) return;
  while (packet_ || take_packet()) write_packet();
  for (const auto& transcoder : transcoder_of_) {
    if (transcoder) transcoder->send(nullptr);
  }
  packets_.reset();
}

void StreamCopy::close() noexcept {
  packets_.reset();
  packet_.reset();
  output_of_.clear();
  time_base_of_.clear();
  transcoder_of_.clear();
  muxer_ = nullptr;
}

std::map<std::string, double> StreamCopy::counters() const {
  return {{"copied_audio_streams", copied_audio_},
          {"encoded_audio_streams", encoded_audio_},
          {"copied_subtitle_streams", copied_subtitles_},
          {"dropped_streams", dropped_}};
}

}  // namespace framepipe::stages
