// decode: reads a media file with libav and decodes its video stream, or an image file as one
// picture (a JPEG with libjpeg-turbo: stages/io/still_jpeg.h). The only stage that opens the
// input: it publishes the other streams and their packets for encode
// (stages/io/demuxed_input.h).
//   - { name: decode, type: decode, params: { threads: 2 } }
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <sched.h>
}

#include "pipeline/inputs.h"
#include "pipeline/run_error.h"
#include "pipeline/sequence_pattern.h"
#include "pipeline/stage.h"
#include "stages/io/demuxed_input.h"
#include "stages/io/libav_error.h"
#include "stages/io/network_input.h"
#include "stages/io/still_jpeg.h"
#include "stages/io/yuv_gray.h"

namespace framepipe::stages {

namespace {

// libav copies colour tags from the bitstream unchecked (a damaged file gave color_primaries
// 205), and loading an enum from a value outside its range is undefined behaviour: read each tag
// as the int it is stored as, and set one the enum does not define to unspecified.
template <typename Enum>
void keep_defined(Enum& tag, int count, Enum unspecified) {
  static_assert(sizeof(Enum) == sizeof(int));
  int value = 0;
  std::memcpy(&value, &tag, sizeof value);
  if (value < 0 || value >= count) tag = unspecified;
}

void keep_defined_colour_tags(AVFrame& f) {
  keep_defined(f.color_range, AVCOL_RANGE_NB, AVCOL_RANGE_UNSPECIFIED);
  keep_defined(f.colorspace, AVCOL_SPC_NB, AVCOL_SPC_UNSPECIFIED);
  keep_defined(f.color_primaries, AVCOL_PRI_NB, AVCOL_PRI_UNSPECIFIED);
  keep_defined(f.color_trc, AVCOL_TRC_NB, AVCOL_TRC_UNSPECIFIED);
}

// swscale wants the deprecated full-range "J" formats named as their plain twins, with the range
// given separately; it warns otherwise.
AVPixelFormat plain_yuv(AVPixelFormat format, bool& full_range) {
  static constexpr std::pair<AVPixelFormat, AVPixelFormat> kTwins[] = {
      {AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV420P},
      {AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUV422P},
      {AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUV444P},
      {AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUV440P},
      {AV_PIX_FMT_YUVJ411P, AV_PIX_FMT_YUV411P}};
  for (const auto& [jpeg, plain] : kTwins) {
    if (format == jpeg) {
      full_range = true;
      return plain;
    }
  }
  return format;
}

// Degrees clockwise a player turns the stream's pictures, from its display matrix; within a
// degree of a right angle counts as that angle. 0 when the stream has no matrix.
int display_rotation(const AVStream* stream) {
  const auto* matrix = reinterpret_cast<const int32_t*>(
      av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
  if (!matrix) return 0;
  // libav measures counterclockwise.
  double degrees = -av_display_rotation_get(matrix);
  if (std::isnan(degrees)) return 0;
  const double right_angle = 90 * std::round(degrees / 90);
  if (std::abs(degrees - right_angle) < 1) degrees = right_angle;
  const int rounded = static_cast<int>(std::lround(degrees)) % 360;
  return rounded < 0 ? rounded + 360 : rounded;
}

std::optional<cv::RotateFlags> rotation_for(int degrees) {
  switch (degrees) {
    case 90:
      return cv::ROTATE_90_CLOCKWISE;
    case 180:
      return cv::ROTATE_180;
    case 270:
      return cv::ROTATE_90_COUNTERCLOCKWISE;
    default:
      return std::nullopt;
  }
}

// swscale's SIMD code writes rows in blocks of 8 pixels and prefers aligned rows, so rows are
// padded to 32 pixels (96 bytes); the spare last row lets the encoder, whose SIMD reads a little
// past the last pixel, use the image without copying it.
cv::Mat padded_bgr(cv::Size size) {
  cv::Mat buffer(size.height + 1, (size.width + 31) & ~31, CV_8UC3);
  return buffer(cv::Rect(cv::Point(), size));
}

// A decoded picture kept in the decoder's pixel format. It becomes BGR only when a stage reads
// its pixels, on that stage's thread, so conversions run in parallel and a pipeline that never
// reads pixels never pays for them.
class DecodedImage : public DeferredImage {
 public:
  // Takes over the frame's buffers, leaving `frame` blank for the next picture; `rotation`
  // turns the converted picture upright.
  DecodedImage(AVFrame* frame, std::optional<cv::RotateFlags> rotation)
      : frame_(av_frame_alloc()), rotation_(rotation) {
    if (!frame_) throw std::bad_alloc();
    av_frame_move_ref(frame_.get(), frame);
  }

 protected:
  cv::Mat convert() const override {
    const AVFrame& f = *frame_;
    bool full_range = f.color_range == AVCOL_RANGE_JPEG;
    const auto format = plain_yuv(static_cast<AVPixelFormat>(f.format), full_range);
    if (!sws_isSupportedInput(format)) {
      const char* name = av_get_pix_fmt_name(format);
      throw std::runtime_error(std::string("cannot convert pixel format '") + (name ? name : "?") +
                               "' to BGR");
    }
    // Conversions of different frames run at once on oneTBB workers and a SwsContext is not
    // thread-safe, so each thread keeps its own, reused while size and format stay the same.
    thread_local std::unique_ptr<SwsContext, libav::SwsDeleter> sws;
    sws.reset(sws_getCachedContext(sws.release(), f.width, f.height, format, f.width, f.height,
                                   AV_PIX_FMT_BGR24, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws) throw std::runtime_error("cannot set up a pixel format conversion to BGR");
    // The stream's YUV matrix and range, as the ffmpeg CLI uses them; unspecified is BT.601.
    int* inverse_table = nullptr;
    int* table = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    sws_getColorspaceDetails(sws.get(), &inverse_table, &src_range, &table, &dst_range, &brightness,
                             &contrast, &saturation);
    sws_setColorspaceDetails(sws.get(), sws_getCoefficients(f.colorspace), full_range, table,
                             dst_range, brightness, contrast, saturation);

    cv::Mat image = padded_bgr({f.width, f.height});
    uint8_t* dst[4] = {image.data, nullptr, nullptr, nullptr};
    const int dst_stride[4] = {static_cast<int>(image.step), 0, 0, 0};
    sws_scale(sws.get(), f.data, f.linesize, 0, f.height, dst, dst_stride);
    if (!rotation_) return image;
    const bool quarter_turn = *rotation_ != cv::ROTATE_180;
    cv::Mat upright = padded_bgr(quarter_turn ? cv::Size(f.height, f.width) : image.size());
    cv::rotate(image, upright, *rotation_);
    return upright;
  }

  // The gray of the BGR picture straight from the YUV planes (stages/io/yuv_gray.h): for
  // BT.601 and untagged sources the luma plane, as the ffmpeg CLI's `-pix_fmt gray` gives it.
  cv::Mat gray() const override {
    const AVFrame& f = *frame_;
    bool full_range = f.color_range == AVCOL_RANGE_JPEG;
    const auto format = plain_yuv(static_cast<AVPixelFormat>(f.format), full_range);
    cv::Mat gray = gray_from_yuv(f, format, full_range);
    if (gray.empty() || !rotation_) return gray;
    cv::Mat upright;
    cv::rotate(gray, upright, *rotation_);
    return upright;
  }

 private:
  std::unique_ptr<AVFrame, libav::FrameDeleter> frame_;
  std::optional<cv::RotateFlags> rotation_;
};

// The cores this process may run on (its affinity mask). libav's own choice for thread_count
// 0 is the cores plus one, which decoded 1080p H.264 11-16% slower than one per core on 2
// cores (bench/RESULTS.md, "Decoder threads: one per core").
int cores_in_affinity_mask() {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return 0;
  return CPU_COUNT(&allowed);
}

class Decode : public SourceStage {
 public:
  FRAMEPIPE_PHASES(demux, decode);

  static inline const auto threads =
      Param<int>{"threads", 0,
                 "decoder threads (frame and slice threading); 0 means one "
                 "per core the process may use"}
          .range(0, 64)
          .helper_threads_one_per_core_at_zero();
  static inline const auto stream =
      Param<std::int64_t>{"stream", -1,
                          "index of the video stream to decode; -1 picks the "
                          "best one"}
          .range(-1, {});
  static inline const auto on_decode_error =
      Param<std::string>::choice("on_decode_error", {"skip", "fail"}, "skip",
                                 "a damaged packet inside the stream: skip it and go on "
                                 "(counted), or fail the file");
  static inline const auto max_decode_error_rate =
      Param<double>{"max_decode_error_rate", 0.05,
                    "with skip: the file fails when more than this share of "
                    "its packets were damaged"}
          .range(0, 1);
  static inline const Param<bool> autorotate{
      "autorotate", true,
      "turn pictures upright by the rotation the file's display "
      "matrix gives (90, 180, 270 degrees), as the ffmpeg CLI "
      "does, and JPEG images by their EXIF orientation, as cv::imread does; "
      "false keeps them as stored and encode writes the "
      "same rotation into its output"};
  static inline const auto max_pixels =
      Param<std::int64_t>{"max_pixels", 7680 * 4320,
                          "the largest picture (width x height) decoded; a file with larger "
                          "pictures fails (default: 8K UHD)"}
          .range(1, 16384LL * 16384);

  explicit Decode(const Params& params)
      : params_(params),
        threads_(params[threads]),
        wanted_stream_(static_cast<int>(params[stream])),
        skip_damage_(params[on_decode_error] == "skip"),
        max_error_rate_(params[max_decode_error_rate]),
        network_(network_input::options_from(params)),
        autorotate_(params[autorotate]),
        max_pixels_(params[max_pixels]) {}

  void open(const RunContext& context) override {
    libav::quiet_logging();
    metrics_ = context.metrics;
    if (context.next_item) {
      next_item_ = context.next_item;
      stage_name_ = context.stage_name;
      return;
    }
    path_ = context.input_path;
    network_.cancel = context.cancel;
    still_ = is_image_name(path_);
    if (still_ && !is_url(path_)) {
      // A FIFO or a folder named like an image is refused before anything reads it.
      network_input::check_readable(path_);
      jpeg_ = StillJpeg::open(path_, max_pixels_, autorotate_);
      if (jpeg_) {
        publish_jpeg(context);
        return;
      }
    }
    if (is_sequence_pattern(path_) && !is_url(path_)) {
      if (const auto gap = sequence_gap(path_)) {
        throw std::runtime_error("'" + path_ + "': the numbered sequence has a gap: " + *gap +
                                 "; its frames would stop there: fill the gap or renumber");
      }
      if (is_sequence_glob(path_)) {
        if (glob_matches(path_) == 0) {
          throw std::runtime_error("'" + path_ + "': no file matches this pattern");
        }
        network_.image_glob = true;
      }
      if (context.sequence_fps > 0) {
        const AVRational rate = av_d2q(context.sequence_fps, 1001000);
        network_.framerate = std::to_string(rate.num) + "/" + std::to_string(rate.den);
      }
    }
    AVFormatContext* format = nullptr;
    int ret = network_input::open(&format, path_, network_);
    if (ret < 0) {
      throw std::runtime_error("cannot open '" + path_ + "': " + libav::error_string(ret));
    }
    format_.reset(format);
    ret = avformat_find_stream_info(format, nullptr);
    if (ret < 0) {
      throw std::runtime_error("cannot read the streams of '" + path_ +
                               "': " + libav::error_string(ret));
    }

    const AVCodec* decoder = nullptr;
    ret = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, wanted_stream_, -1, &decoder, 0);
    if (ret == AVERROR_STREAM_NOT_FOUND) {
      throw std::runtime_error(
          "'" + path_ + "' has no video stream" +
          (wanted_stream_ >= 0 ? " with index " + std::to_string(wanted_stream_) : ""));
    }
    if (ret == AVERROR_DECODER_NOT_FOUND) {
      const int index =
          av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, wanted_stream_, -1, nullptr, 0);
      throw std::runtime_error(std::string("no decoder for codec '") +
                               avcodec_get_name(format->streams[index]->codecpar->codec_id) +
                               "' of '" + path_ + "'");
    }
    libav::check(ret, "cannot pick the video stream of '" + path_ + "'");
    stream_ = format->streams[ret];
    // Like the ffmpeg CLI, turn right-angle rotations upright here; any other rotation (or all,
    // with autorotate: false) travels with the frames for the encoder to write out again.
    const int rotation = display_rotation(stream_);
    rotate_ = autorotate_ ? rotation_for(rotation) : std::nullopt;
    if (rotate_) {
      autorotated_degrees_ = rotation;
    } else {
      display_rotation_ = rotation;
    }
    publish(context, rotation);

    // A few bytes of a crafted file can declare a 16000x16000 picture; every frame in flight
    // would then hold ~1 GB.
    const auto pixels = std::int64_t{stream_->codecpar->width} * stream_->codecpar->height;
    if (pixels > max_pixels_) {
      throw std::runtime_error(
          "'" + path_ + "': its pictures are " + std::to_string(stream_->codecpar->width) + "x" +
          std::to_string(stream_->codecpar->height) + " (" + std::to_string(pixels) +
          " pixels), more than decode's max_pixels " + std::to_string(max_pixels_));
    }

    codec_.reset(avcodec_alloc_context3(decoder));
    if (!codec_) throw std::bad_alloc();
    libav::check(avcodec_parameters_to_context(codec_.get(), stream_->codecpar),
                 "cannot set up the decoder");
    codec_->pkt_timebase = stream_->time_base;
    codec_->max_pixels = max_pixels_;  // also pictures that grow mid-stream
    codec_->thread_count = threads_ > 0 ? threads_ : cores_in_affinity_mask();
    codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    ret = avcodec_open2(codec_.get(), decoder, nullptr);
    if (ret < 0) {
      throw std::runtime_error(std::string("cannot open decoder '") + decoder->name + "' for '" +
                               path_ + "': " + libav::error_string(ret));
    }

    const AVRational rate =
        stream_->avg_frame_rate.num > 0 ? stream_->avg_frame_rate : stream_->r_frame_rate;
    time_base_ = {stream_->time_base.num, stream_->time_base.den};
    frame_rate_ = {rate.num, rate.den};
    if (frame_rate_.valid()) {
      ticks_per_frame_ =
          std::max<std::int64_t>(1, av_rescale_q(1, av_inv_q(rate), stream_->time_base));
    }
    expected_frames_ = stream_->nb_frames;
    if (expected_frames_ <= 0 && frame_rate_.valid() && stream_->duration > 0) {
      expected_frames_ = av_rescale_q(stream_->duration, stream_->time_base, av_inv_q(rate));
    }
    packet_.reset(av_packet_alloc());
    frame_.reset(av_frame_alloc());
    if (!packet_ || !frame_) throw std::bad_alloc();
    open_window(context.window);
  }

  std::optional<Frame> next() override {
    if (next_item_) return next_item_frame();
    if (jpeg_) return next_jpeg();
    if (window_ended_) return std::nullopt;
    if (!reading_) start_reading();
    for (;;) {
      int ret = 0;
      {
        ScopedPhase phase(metrics_, Phase::decode);
        ret = avcodec_receive_frame(codec_.get(), frame_.get());
      }
      if (ret == 0) {
        const auto place = place_in_window();
        if (place == WindowPlace::before) {
          av_frame_unref(frame_.get());
          continue;
        }
        if (place == WindowPlace::after) return end_window();
        keep_defined_colour_tags(*frame_);
        return take_frame();
      }
      if (ret == AVERROR_EOF) {
        check_error_budget();
        return std::nullopt;
      }
      if (ret != AVERROR(EAGAIN)) {
        // A decoder that keeps failing without taking input would spin here forever.
        if (++errors_in_a_row_ > kMaxErrorsInARow) skip_damage_ = false;
        damaged("cannot decode '" + path_ + "': " + libav::error_string(ret));
        continue;
      }
      send_packet();
    }
  }

 private:
  // A JPEG image has no streams but its picture: what encode would copy is nothing.
  void publish_jpeg(const RunContext& context) {
    input_ = std::make_shared<DemuxedInput>();
    input_->path = path_;
    input_->video.index = 0;
    input_->video.codecpar.reset(avcodec_parameters_alloc());
    if (!input_->video.codecpar) throw std::bad_alloc();
    input_->video.codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    input_->video.codecpar->codec_id = AV_CODEC_ID_MJPEG;
    input_->video.codecpar->width = jpeg_->size().width;
    input_->video.codecpar->height = jpeg_->size().height;
    input_->video.time_base = {1, 1};
    input_->stream_count = 1;
    if (context.side_data) context.side_data->put(kDemuxedInput, input_);
    expected_frames_ = 1;
    time_base_ = {1, 1};
  }

  // The JPEG's one picture, decoded on this thread (libjpeg-turbo decodes and converts to BGR in
  // one pass: there is nothing left to defer).
  std::optional<Frame> next_jpeg() {
    if (frames_ > 0) return std::nullopt;
    ++packets_;
    Frame frame;
    {
      ScopedPhase phase(metrics_, Phase::decode);
      frame.set_image(jpeg_->decode());
    }
    ++frames_;
    ++frames_by_format_["jpeg"];
    frame.time_base = time_base_;
    frame.duration = 1;
    return frame;
  }

  // In a run over many items (images): each item's one picture, read by a decoder of its own
  // with these settings, as a run over that one file would read it. An item that cannot be read
  // fails alone, naming its file, and the next one is read.
  std::optional<Frame> next_item_frame() {
    for (;;) {
      auto item = (*next_item_)();
      if (!item) return std::nullopt;
      try {
        Decode reader(params_);
        RunContext context;
        context.input_path = item->path();
        context.metrics = metrics_;
        reader.open(context);
        auto frame = reader.next();
        if (!frame) throw std::runtime_error("'" + item->path() + "' holds no picture");
        packets_ += reader.packets_;
        frames_ += reader.frames_;
        for (const auto& [format, frames] : reader.frames_by_format_) {
          frames_by_format_[format] += frames;
        }
        frame->item = std::move(item);
        return frame;
      } catch (const std::exception& e) {
        item->fail(RunError{item->path(), stage_name_, "decode", -1, e.what()}.to_string());
      }
    }
  }

  // Publishes what the stages after this one need of the input, for them to read in their
  // open(): they never open it again.
  void publish(const RunContext& context, int rotation) {
    const AVFormatContext& format = *format_;
    input_ = std::make_shared<DemuxedInput>();
    input_->path = path_;
    AVDictionary* metadata = nullptr;
    if (av_dict_copy(&metadata, format.metadata, 0) < 0) {
      av_dict_free(&metadata);
      throw std::bad_alloc();
    }
    input_->metadata.reset(metadata);
    input_->video = InputStream::of(*stream_);
    input_->display_rotation = rotation;
    input_->autorotated = rotate_.has_value();
    input_->stream_count = format.nb_streams;
    for (unsigned i = 0; i < format.nb_streams; ++i) {
      if (format.streams[i] != stream_)
        input_->others.push_back(InputStream::of(*format.streams[i]));
    }
    if (context.side_data) context.side_data->put(kDemuxedInput, input_);
  }

  // A run over part of the input (RunContext::window): seeks to the keyframe before the start,
  // where the input can seek, and counts on the frames the window holds.
  void open_window(const InputWindow& window) {
    const AVRational rate = {frame_rate_.num, frame_rate_.den};
    origin_ = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : 0;
    if (window.start_s > 0) {
      start_pts_ = origin_ + av_rescale_q(std::llround(window.start_s * 1e6), AV_TIME_BASE_Q,
                                          stream_->time_base);
      // An input that cannot seek (a pipe) is read from its beginning: the frames before the
      // start are decoded and dropped.
      av_seek_frame(format_.get(), stream_->index, *start_pts_, AVSEEK_FLAG_BACKWARD);
    }
    if (window.duration_s > 0) {
      end_pts_ = start_pts_.value_or(origin_) + av_rescale_q(std::llround(window.duration_s * 1e6),
                                                             AV_TIME_BASE_Q, stream_->time_base);
    }
    if (expected_frames_ > 0 && frame_rate_.valid()) {
      // The header's count of frames in the window, one frame short of the estimate so that
      // rounding never makes a whole window look truncated.
      const double fps = av_q2d(rate);
      if (window.start_s > 0) {
        expected_frames_ -= static_cast<std::int64_t>(std::ceil(window.start_s * fps)) + 1;
      }
      if (window.duration_s > 0) {
        expected_frames_ = std::min<std::int64_t>(
            expected_frames_, static_cast<std::int64_t>(std::floor(window.duration_s * fps)) - 1);
      }
      expected_frames_ = std::max<std::int64_t>(0, expected_frames_);
    }
    if (window.frames > 0 && expected_frames_ > 0) {
      expected_frames_ = std::min(expected_frames_, window.frames);
    }
  }

  enum class WindowPlace { before, inside, after };
  WindowPlace place_in_window() const {
    const auto pts = frame_->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) return WindowPlace::inside;
    if (start_pts_ && pts < *start_pts_) return WindowPlace::before;
    if (end_pts_ && pts >= *end_pts_) return WindowPlace::after;
    return WindowPlace::inside;
  }

  std::optional<Frame> end_window() {
    window_ended_ = true;
    av_frame_unref(frame_.get());
    input_->end();
    return std::nullopt;
  }

  // Called before the first read, once every stage has opened and subscribed: the demuxer skips
  // the packets of the other streams no stage asked for.
  void start_reading() {
    reading_ = true;
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      AVStream* stream = format_->streams[i];
      if (stream == stream_) continue;
      stream->discard = input_->wanted(static_cast<int>(i)) ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    }
  }

  // Feeds the decoder the next packet of our stream, or the end-of-stream signal that makes it
  // hand out the frames it still holds for reordering and threading.
  void send_packet() {
    int ret = 0;
    {
      ScopedPhase phase(metrics_, Phase::demux);
      do {
        av_packet_unref(packet_.get());
        ret = av_read_frame(format_.get(), packet_.get());
        if (ret >= 0 && packet_->stream_index != stream_->index && in_window(*packet_))
          input_->publish(*packet_);
      } while (ret >= 0 && packet_->stream_index != stream_->index);
      if (ret == AVERROR_EOF) input_->end();
    }
    if (ret < 0 && ret != AVERROR_EOF) {
      throw std::runtime_error("cannot read '" + path_ + "': " + libav::error_string(ret));
    }
    const bool end = ret == AVERROR_EOF;
    ScopedPhase phase(metrics_, Phase::decode);
    // avcodec_receive_frame() said EAGAIN just before, so the decoder takes this packet: any
    // error here is the packet's.
    ret = avcodec_send_packet(codec_.get(), end ? nullptr : packet_.get());
    if (ret < 0) {
      std::string where = end ? "the end of the stream" : "packet #" + std::to_string(packets_);
      if (!end && packet_->pts != AV_NOPTS_VALUE) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.3f s", packet_->pts * av_q2d(stream_->time_base));
        where += " (pts " + std::to_string(packet_->pts) + ", " + seconds + ")";
      }
      ++packets_;
      damaged("'" + path_ + "': the decoder rejected " + where + ": " + libav::error_string(ret));
      return;
    }
    ++packets_;
  }

  // Whether another stream's packet falls inside the window (packets without a time do).
  bool in_window(const AVPacket& packet) const {
    if (packet.pts == AV_NOPTS_VALUE || (!start_pts_ && !end_pts_)) return true;
    const auto pts = av_rescale_q(packet.pts, format_->streams[packet.stream_index]->time_base,
                                  stream_->time_base);
    return (!start_pts_ || pts >= *start_pts_) && (!end_pts_ || pts < *end_pts_);
  }

  // Damage inside the stream: with on_decode_error: fail the run stops here; with skip the
  // damaged packet is counted and decoding goes on, within max_decode_error_rate.
  void damaged(const std::string& message) {
    ++damaged_packets_;
    if (!skip_damage_) throw std::runtime_error(message);
  }

  void check_error_budget() const {
    if (damaged_packets_ == 0) return;
    const double rate = static_cast<double>(damaged_packets_) / std::max<std::int64_t>(1, packets_);
    if (rate > max_error_rate_) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "%lld of %lld packets were damaged (%.1f%%), more than "
                    "max_decode_error_rate %.1f%%",
                    static_cast<long long>(damaged_packets_), static_cast<long long>(packets_),
                    rate * 100, max_error_rate_ * 100);
      throw std::runtime_error("'" + path_ + "': " + text);
    }
  }

  // Besides the packet and frame counts: the rotation applied, and how many frames came in
  // each source pixel format ("pixel_format_yuv420p10le"), all converted to 8-bit BGR.
  std::map<std::string, double> counters() const override {
    std::map<std::string, double> counters{
        {"packets", static_cast<double>(packets_)},
        {counter::damaged_packets, static_cast<double>(damaged_packets_)},
        {"frames", static_cast<double>(frames_)},
        {counter::expected_frames, static_cast<double>(expected_frames_)},
        {counter::frame_rate, frame_rate_.value()},
        {"autorotated_degrees", autorotated_degrees_}};
    if (jpeg_) counters["exif_orientation"] = jpeg_->orientation();
    for (const auto& [format, frames] : frames_by_format_) {
      counters["pixel_format_" + format] = static_cast<double>(frames);
    }
    return counters;
  }

  // The colour tags the conversion to BGR follows, and the rotation still to apply.
  PictureTags tags_of(const AVFrame& f) const {
    PictureTags tags;
    bool full_range = f.color_range == AVCOL_RANGE_JPEG;
    plain_yuv(static_cast<AVPixelFormat>(f.format), full_range);
    if (full_range) {
      tags.color_range = AVCOL_RANGE_JPEG;
    } else if (f.color_range != AVCOL_RANGE_UNSPECIFIED) {
      tags.color_range = f.color_range;
    }
    if (f.colorspace != AVCOL_SPC_UNSPECIFIED) tags.colorspace = f.colorspace;
    if (f.color_primaries != AVCOL_PRI_UNSPECIFIED) tags.color_primaries = f.color_primaries;
    if (f.color_trc != AVCOL_TRC_UNSPECIFIED) tags.color_trc = f.color_trc;
    tags.display_rotation = display_rotation_;
    return tags;
  }

  Frame take_frame() {
    ++frames_;
    errors_in_a_row_ = 0;
    Frame frame;
    frame.pts =
        frame_->best_effort_timestamp != AV_NOPTS_VALUE ? frame_->best_effort_timestamp : next_pts_;
    next_pts_ = frame.pts + ticks_per_frame_;
    frame.duration = std::max<std::int64_t>(0, frame_->pkt_duration);
    frame.time_base = time_base_;
    frame.frame_rate = frame_rate_;
    frame.tags = tags_of(*frame_);
    const char* format = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame_->format));
    ++frames_by_format_[format ? format : "unknown"];
    auto decoded = std::make_shared<DecodedImage>(frame_.get(), rotate_);
    if (!still_) {
      frame.set_deferred(std::move(decoded));
      return frame;
    }
    // An image gets exactly its own pixels, contiguous as cv::imread gives them: OpenCV's filters
    // read past the edges of a submatrix into its parent (unless BORDER_ISOLATED), and the
    // deferred picture is a window on a padded buffer.
    ScopedPhase phase(metrics_, Phase::decode);
    frame.set_image(decoded->image().clone());
    return frame;
  }

  Params params_;                        // for each item's own reader
  const NextItem* next_item_ = nullptr;  // set in a run over many items
  std::string stage_name_;
  int threads_;
  int wanted_stream_;
  bool skip_damage_;
  double max_error_rate_;
  network_input::Options network_;
  bool autorotate_;
  std::int64_t max_pixels_;
  bool still_ = false;             // the input is an image (by its name): one picture
  std::optional<StillJpeg> jpeg_;  // set when the input is a JPEG image: libav reads nothing
  std::optional<cv::RotateFlags> rotate_;  // what turns this stream's pictures upright
  int display_rotation_ = 0;               // the rotation frames carry on, not applied
  double autorotated_degrees_ = 0;
  std::map<std::string, std::int64_t> frames_by_format_;
  static constexpr int kMaxErrorsInARow = 1000;
  int errors_in_a_row_ = 0;
  std::int64_t damaged_packets_ = 0;
  std::int64_t frames_ = 0;
  std::int64_t expected_frames_ = 0;  // from the container's header; 0 when it does not say
  StageMetrics* metrics_ = nullptr;
  std::string path_;
  std::unique_ptr<AVFormatContext, libav::InputFormatDeleter> format_;
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> codec_;
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet_;
  std::unique_ptr<AVFrame, libav::FrameDeleter> frame_;
  const AVStream* stream_ = nullptr;
  std::shared_ptr<DemuxedInput> input_;  // published in open(); its packets as they are read
  bool reading_ = false;
  Rational time_base_;
  Rational frame_rate_;
  // For frames without a timestamp: one frame after the previous one.
  std::int64_t ticks_per_frame_ = 1;
  std::int64_t next_pts_ = 0;
  std::int64_t packets_ = 0;
  // The window, in the video stream's time base from its first timestamp (`origin_`).
  std::int64_t origin_ = 0;
  std::optional<std::int64_t> start_pts_;
  std::optional<std::int64_t> end_pts_;
  bool window_ended_ = false;
};

}  // namespace

StageInfo decode_stage() {
  return stage_info<Decode>(
      {.type = "decode",
       .resource = ResourceClass::io,
       .ordering = Ordering::serial_in_order,
       .summary = "Reads the input file and decodes its video stream with libav (FFmpeg).",
       .example = "- { name: decode, type: decode, params: { threads: 2 } }",
       .params = {Decode::threads, Decode::stream, Decode::on_decode_error,
                  Decode::max_decode_error_rate, Decode::autorotate, Decode::max_pixels,
                  network_input::timeout_ms, network_input::retries, network_input::tls_ca_file},
       .helper_threads_phase = "decode",
       .check =
           [](const Params& params) {
             std::vector<std::string> problems;
             const auto& ca_file = params[network_input::tls_ca_file];
             std::error_code ignored;
             if (!ca_file.empty() && !std::filesystem::is_regular_file(ca_file, ignored)) {
               problems.push_back("'tls_ca_file': no file '" + ca_file + "'");
             }
             return problems;
           },
       .takes_items = true});
}

}  // namespace framepipe::stages
