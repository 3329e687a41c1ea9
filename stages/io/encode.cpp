// encode: encodes frames with a libav encoder into a media file, written under a temporary name
// and renamed when complete. The input's audio, subtitles and metadata are copied alongside, from
// the streams and packets decode publishes (stages/io/demuxed_input.h).
//   - { name: video, type: encode, params: { codec: libx264, crf: 23, preset: veryfast } }

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include "pipeline/stage.h"
#include "pipeline/suggest.h"
#include "stages/io/gray_yuv.h"
#include "stages/io/libav_error.h"
#include "stages/io/output_file.h"
#include "stages/io/stream_copy.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

// x264's and x265's presets (x264_preset_names), fastest first. libav passes them on as text,
// and x264 alone checks them, when the encoder opens at the first frame.
const std::vector<std::string> kX26xPresets = {"ultrafast", "superfast", "veryfast", "faster",
                                               "fast",      "medium",    "slow",     "slower",
                                               "veryslow",  "placebo"};

bool is_x26x(const Params& params);

// The stage's parameters, apart from the class because resolve() reads them too.
struct EncodeParams {
  static inline const Param<std::string> path{
      "path", "{stem}.mp4",
      "output file under output.dir; {stem}: the input's name without "
      "extension, {ext}: its extension, {stage}: this stage's name; the "
      "extension picks the container (mp4, mkv, mov, avi, webm)"};
  static inline const Param<std::string> codec{
      "codec", "libx264", "libav encoder name: libx264, mpeg4, ffv1, libvpx-vp9, ..."};
  static inline const auto crf =
      Param<int>{"crf", 23,
                 "constant rate factor, for encoders that have one (libx264, "
                 "libvpx-vp9): lower is better and larger"}
          .range(0, 51);
  // A speed ladder for the encoders whose presets we know, x264's and x265's (the same names).
  static inline const auto preset =
      Param<std::string>{"preset", "veryfast",
                         "speed/size trade-off, for encoders that have presets (libx264: "
                         "ultrafast ... veryslow)"}
          .speed_ladder([](const Params& params) {
            // Without placebo: slower than veryslow for next to nothing.
            static const std::vector<std::string> x26x(kX26xPresets.begin(),
                                                       kX26xPresets.end() - 1);
            return is_x26x(params) ? x26x : std::vector<std::string>{};
          });
  static inline const auto quality =
      Param<int>{"quality", 5,
                 "fixed quantizer for encoders without crf (mpeg4), like ffmpeg "
                 "-q:v: lower is better and larger"}
          .range(1, 31);
  static inline const auto threads =
      Param<int>{"threads", 0, "encoder threads; 0 lets libav choose"}
          .range(0, 64)
          .helper_threads();
  static inline const Param<std::string> pix_fmt{
      "pix_fmt", "yuv420p",
      "pixel format the encoder gets: yuv420p plays everywhere, yuv444p "
      "keeps full colour"};
  static inline const auto odd_size =
      Param<std::string>::choice("odd_size", {"pad", "crop"}, "pad",
                                 "a width or height the pixel format's chroma subsampling does not "
                                 "divide (641x359 in yuv420p): repeat the last column/row, or drop "
                                 "it");
  static inline const auto audio =
      Param<std::string>::choice("audio", {"copy", "drop", "encode"}, "copy",
                                 "the input's audio streams: copy them packet for packet (no "
                                 "re-encode), in sync with the video, re-encoding (AAC where the "
                                 "container holds it) only those the container cannot hold; drop "
                                 "them; or always encode them. Subtitles are copied when the "
                                 "container can hold them, else dropped, as are data streams "
                                 "(counted)");
  static inline const auto metadata =
      Param<std::string>::choice("metadata", {"copy", "drop"}, "copy",
                                 "the input's container and stream metadata (title, creation_time, "
                                 "language)");
};

// What the parameters name in libav, with one message per problem. Shared by config validation
// and open(), so a bad name fails before any frame is decoded either way.
struct Choices {
  const AVCodec* codec = nullptr;
  AVPixelFormat pix_fmt = AV_PIX_FMT_NONE;
  const AVOutputFormat* container = nullptr;
  std::vector<std::string> problems;
};

const AVOption* find_option(const AVCodec* codec, const char* name) {
  const AVClass* priv_class = codec->priv_class;
  return priv_class ? av_opt_find(&priv_class, name, nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ) : nullptr;
}

bool has_option(const AVCodec* codec, const char* name) { return find_option(codec, name); }

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// The named values libav lists for an encoder's option (nvenc's presets p1 ... p7), or its
// range for a number (SVT-AV1's); "" when libav knows neither (x264's preset is text).
std::string option_values(const AVCodec* codec, const AVOption& option, const std::string& value) {
  const AVClass* priv_class = codec->priv_class;
  std::vector<std::string> names;
  for (const AVOption* o = nullptr; option.unit && (o = av_opt_next(&priv_class, o));) {
    if (o->type == AV_OPT_TYPE_CONST && o->unit && std::strcmp(o->unit, option.unit) == 0) {
      names.push_back(o->name);
    }
  }
  if (!names.empty()) return did_you_mean(value, names) + "; it takes " + join(names);
  if (option.type == AV_OPT_TYPE_INT || option.type == AV_OPT_TYPE_INT64) {
    return "; it takes an integer from " + std::to_string(static_cast<long long>(option.min)) +
           " to " + std::to_string(static_cast<long long>(option.max));
  }
  return "";
}

// As x264 and x265 read a preset: a name, or its index (0 = ultrafast ... 9 = placebo); x264
// ignores the case of a name.
bool is_x26x_preset(const std::string& preset, bool ignore_case) {
  if (preset.size() == 1 && preset[0] >= '0' && preset[0] <= '9') return true;
  return std::any_of(kX26xPresets.begin(), kX26xPresets.end(), [&](const std::string& name) {
    return ignore_case ? strcasecmp(name.c_str(), preset.c_str()) == 0 : name == preset;
  });
}

// A preset the encoder does not have would fail when the encoder opens, at the first frame.
// libav checks a preset with named values or a range itself; x264's and x265's are text only
// the encoder reads, checked here against their list.
std::optional<std::string> preset_problem(const Params& params, const AVCodec* codec) {
  const AVOption* option = find_option(codec, "preset");
  if (!option) return std::nullopt;
  const auto& preset = params[EncodeParams::preset];
  const auto problem =
      "'preset': encoder '" + std::string(codec->name) + "' has no preset '" + preset + "'";
  if (is_x26x(params)) {
    if (is_x26x_preset(preset, params[EncodeParams::codec] == "libx264")) return std::nullopt;
    return problem + did_you_mean(preset, kX26xPresets) + "; presets: " + join(kX26xPresets);
  }
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> context(
      avcodec_alloc_context3(codec));
  if (!context) throw std::bad_alloc();
  libav::quiet_logging();  // libav logs the refusal too; the problem below says it
  const int set = av_opt_set(context->priv_data, "preset", preset.c_str(), 0);
  libav::take_last_logged_error();
  if (set >= 0) return std::nullopt;
  return problem + option_values(codec, *option, preset);
}

bool is_x26x(const Params& params) {
  const auto& encoder = params[EncodeParams::codec];
  return encoder == "libx264" || encoder == "libx265";
}

Choices resolve(const Params& params) {
  Choices choices;
  const auto& codec = params[EncodeParams::codec];
  choices.codec = avcodec_find_encoder_by_name(codec.c_str());
  if (!choices.codec || choices.codec->type != AVMEDIA_TYPE_VIDEO) {
    choices.codec = nullptr;
    choices.problems.push_back("'codec': this FFmpeg has no video encoder '" + codec +
                               "' (try libx264, mpeg4, ffv1 or libvpx-vp9)");
  }

  const auto& pix_fmt = params[EncodeParams::pix_fmt];
  choices.pix_fmt = av_get_pix_fmt(pix_fmt.c_str());
  if (choices.pix_fmt == AV_PIX_FMT_NONE) {
    choices.problems.push_back("'pix_fmt': unknown pixel format '" + pix_fmt + "'");
  } else if (choices.codec && choices.codec->pix_fmts) {
    std::string accepted;
    bool found = false;
    for (const AVPixelFormat* f = choices.codec->pix_fmts; *f != AV_PIX_FMT_NONE; ++f) {
      found = found || *f == choices.pix_fmt;
      accepted += (accepted.empty() ? "" : ", ") + std::string(av_get_pix_fmt_name(*f));
    }
    if (!found) {
      choices.problems.push_back("'pix_fmt': encoder '" + codec + "' does not take '" + pix_fmt +
                                 "'; it takes " + accepted);
    }
  }
  if (choices.codec) {
    if (auto problem = preset_problem(params, choices.codec)) {
      choices.problems.push_back(std::move(*problem));
    }
  }

  const auto& path = params[EncodeParams::path];
  choices.container = av_guess_format(nullptr, path.c_str(), nullptr);
  if (!choices.container) {
    choices.problems.push_back("'path': no container format has the extension of '" + path +
                               "' (use .mp4, .mkv, .mov, .avi, .webm...)");
  } else if (choices.codec && avformat_query_codec(choices.container, choices.codec->id,
                                                   FF_COMPLIANCE_NORMAL) == 0) {
    choices.problems.push_back("'codec': container '" + std::string(choices.container->name) +
                               "' cannot hold codec '" + codec + "'");
  }
  return choices;
}

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

// The YUV matrix the encoder converts BGR with and tags its output with: the source's, so
// colours survive the round trip; BT.601 (swscale's default, which decoded untagged sources)
// when the source named none or was RGB.
AVColorSpace yuv_matrix(const PictureTags& tags) {
  switch (tags.colorspace) {
    case AVCOL_SPC_BT709:
    case AVCOL_SPC_FCC:
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
    case AVCOL_SPC_SMPTE240M:
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return static_cast<AVColorSpace>(tags.colorspace);
    default:
      return AVCOL_SPC_SMPTE170M;
  }
}

StreamCopy::Audio audio_mode(const std::string& name) {
  if (name == "drop") return StreamCopy::Audio::drop;
  return name == "encode" ? StreamCopy::Audio::encode : StreamCopy::Audio::copy;
}

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// The encoder's pictures for frames of one size and colour description: worked out from the
// parameters and the frame alone, so that prepare() can convert on any thread before the
// encoder exists and open_encoder() sets the encoder up to match.
struct PictureFormat {
  AVPixelFormat pix_fmt = AV_PIX_FMT_NONE;
  cv::Size size;     // after padding or cropping
  cv::Size padded;   // columns and rows repeated to fit the chroma subsampling
  cv::Size cropped;  // columns and rows dropped for it
  bool yuv = false;
  AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
};

PictureFormat picture_format(AVPixelFormat pix_fmt, bool pad_odd_sizes, cv::Size source,
                             const PictureTags& tags) {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(pix_fmt);
  // Chroma-subsampled formats (4:2:0, 4:2:2) need sizes their subsampling divides: repeat the
  // last column or row (pad), or drop it (crop), rather than scale the picture.
  const int column_step = 1 << desc->log2_chroma_w;
  const int row_step = 1 << desc->log2_chroma_h;
  PictureFormat format;
  format.pix_fmt = pix_fmt;
  format.size = {
      pad_odd_sizes ? round_up(source.width, column_step)
                    : source.width / column_step * column_step,
      pad_odd_sizes ? round_up(source.height, row_step) : source.height / row_step * row_step};
  if (format.size.width <= 0 || format.size.height <= 0) {
    throw std::runtime_error("frames of " + size_text(source.width, source.height) +
                             " are too small to encode as " + desc->name);
  }
  format.padded = {std::max(0, format.size.width - source.width),
                   std::max(0, format.size.height - source.height)};
  format.cropped = {std::max(0, source.width - format.size.width),
                    std::max(0, source.height - format.size.height)};
  // The source's matrix and range, written into the output too: untagged, players guess
  // (BT.709 for HD) and shift the colours.
  format.yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3;
  if (format.yuv) {
    format.colorspace = yuv_matrix(tags);
    format.range = std::strncmp(desc->name, "yuvj", 4) == 0 || tags.color_range == AVCOL_RANGE_JPEG
                       ? AVCOL_RANGE_JPEG
                       : AVCOL_RANGE_MPEG;
  }
  return format;
}

// Buffers for prepared pictures, reused from frame to frame. A fresh buffer per frame, made on
// whichever worker prepared it and freed on the encoder's thread, scatters over the allocator's
// per-thread arenas, and peak memory crept up with the video's length (+21% from a 10 s to a
// 60 s clip at 32 frames in flight).
class PicturePool {
 public:
  std::unique_ptr<AVFrame, libav::FrameDeleter> get(const PictureFormat& format) {
    std::unique_ptr<AVFrame, libav::FrameDeleter> picture(av_frame_alloc());
    if (!picture) throw std::bad_alloc();
    picture->format = format.pix_fmt;
    picture->width = format.size.width;
    picture->height = format.size.height;
    const int size =
        av_image_get_buffer_size(format.pix_fmt, format.size.width, format.size.height, kAlign);
    libav::check(size, "cannot size a picture");
    std::call_once(made_, [&] {
      // Padded as av_frame_get_buffer pads, for SIMD code that reads past the end.
      pool_.reset(av_buffer_pool_init(static_cast<std::size_t>(size) + kPadding, nullptr));
      buffer_size_ = size;
    });
    // A frame of another size (the encoder will refuse it) gets a buffer of its own.
    if (size != buffer_size_ || !pool_) {
      libav::check(av_frame_get_buffer(picture.get(), kAlign), "cannot allocate a picture");
      return picture;
    }
    picture->buf[0] = av_buffer_pool_get(pool_.get());
    if (!picture->buf[0]) throw std::bad_alloc();
    libav::check(
        av_image_fill_arrays(picture->data, picture->linesize, picture->buf[0]->data,
                             format.pix_fmt, format.size.width, format.size.height, kAlign),
        "cannot lay out a picture");
    return picture;
  }

 private:
  static constexpr int kAlign = 64;
  static constexpr std::size_t kPadding = 64;
  struct PoolDeleter {
    // Frees the pool once the last picture taken from it is released.
    void operator()(AVBufferPool* pool) const { av_buffer_pool_uninit(&pool); }
  };
  std::once_flag made_;
  std::unique_ptr<AVBufferPool, PoolDeleter> pool_;
  int buffer_size_ = 0;
};

// A frame converted to the encoder's format by prepare(), with the size it had before.
struct PreparedPicture : PreparedFrame {
  std::unique_ptr<AVFrame, libav::FrameDeleter> picture;
  cv::Size source_size;
};

class Encode : public SinkStage, public EncodeParams {
 public:
  FRAMEPIPE_PHASES(convert, encode, mux);

  explicit Encode(const Params& params)
      : params_(params), pad_odd_sizes_(params[odd_size] == "pad") {}
  ~Encode() override { discard(); }

  void open(const RunContext& context) override {
    libav::quiet_logging();
    metrics_ = context.metrics;
    choices_ = resolve(params_);
    if (!choices_.problems.empty()) throw std::runtime_error(choices_.problems.front());

    output_.start(context, params_[path]);
    AVFormatContext* muxer = nullptr;
    // The container comes from the final name, chosen when the parameters were checked.
    libav::check(avformat_alloc_output_context2(&muxer, choices_.container, nullptr,
                                                output_.temp_path().c_str()),
                 "cannot set up the muxer for '" + output_.final_path().string() + "'");
    muxer_.reset(muxer);
    // Opened now so an unwritable folder fails before any frame is decoded.
    if (!(choices_.container->flags & AVFMT_NOFILE)) {
      const int ret = avio_open(&muxer->pb, output_.temp_path().c_str(), AVIO_FLAG_WRITE);
      if (ret < 0) {
        throw std::runtime_error("cannot write '" + output_.final_path().string() +
                                 "': " + libav::error_string(ret));
      }
    }
    packet_.reset(av_packet_alloc());
    if (!packet_) throw std::bad_alloc();
    // Created before the copied streams so the video is the output's first stream; described
    // when the first frame tells its size.
    stream_ = avformat_new_stream(muxer, nullptr);
    if (!stream_) throw std::bad_alloc();
    // What decode published of the input; a run whose source is not decode copies nothing.
    if (const auto input = context.side_data ? context.side_data->get(kDemuxedInput) : nullptr) {
      copy_.open(*input, muxer, stream_,
                 {.audio = audio_mode(params_[audio]), .metadata = params_[metadata] == "copy"});
    }
  }

  // The conversion to the encoder's pixel format, which needs none of the encoder's state: the
  // engine runs it on many frames at once, off the serial path that sets the pace.
  void prepare(Frame& frame) const override {
    ScopedPhase phase(metrics_, Phase::convert);
    const cv::Mat& image = frame.image();
    if (image.type() != CV_8UC3 && image.type() != CV_8UC1) {
      throw std::runtime_error("encode takes 8-bit BGR or gray frames, got " +
                               cv::typeToString(image.type()));
    }
    auto prepared = std::make_shared<PreparedPicture>();
    prepared->picture =
        convert(image, picture_format(choices_.pix_fmt, pad_odd_sizes_, image.size(), frame.tags),
                pictures_);
    prepared->source_size = image.size();
    frame.prepared = std::move(prepared);
  }

  void consume(Frame& frame) override {
    // Called outside the engine (unit tests), a frame arrives unprepared.
    if (!frame.prepared) prepare(frame);
    auto* prepared = frame.prepared_as<PreparedPicture>();
    if (!prepared) throw std::logic_error("encode got a frame prepared by another stage");
    if (!encoder_) open_encoder(frame, prepared->source_size);
    if (prepared->source_size != input_size_) {
      throw std::runtime_error(
          "frame size changed from " + size_text(input_size_.width, input_size_.height) + " to " +
          size_text(prepared->source_size.width, prepared->source_size.height) +
          "; an encoder needs one size");
    }
    AVFrame* picture = prepared->picture.get();
    picture->pts = encoder_pts(frame);
    if (frame.duration > 0 && frame.time_base.valid()) {
      durations_[picture->pts] = av_rescale_q(
          frame.duration, {frame.time_base.num, frame.time_base.den}, encoder_->time_base);
    }
    picture->quality = encoder_->global_quality;
    encode(picture);
  }

  void finish() override {
    if (!encoder_) {
      discard();
      throw std::runtime_error("no frames to encode; '" + output_.final_path().string() +
                               "' not written");
    }
    encode(nullptr);
    {
      ScopedPhase phase(metrics_, Phase::mux);
      copy_.write_rest();
      libav::check(av_write_trailer(muxer_.get()),
                   "cannot finish '" + output_.final_path().string() + "'");
      if (muxer_->pb) {
        libav::check(avio_closep(&muxer_->pb),
                     "cannot write '" + output_.final_path().string() + "'");
      }
    }
    copy_.close();
    muxer_.reset();
    encoder_.reset();
    output_.commit();
  }

  void abort() noexcept override { discard(); }

  std::vector<fs::path> outputs() const override { return output_.committed(); }

  // The streams copied or dropped beside the video, and how odd sizes were fitted.
  std::map<std::string, double> counters() const override {
    auto counters = copy_.counters();
    counters["padded_columns"] = padded_.width;
    counters["padded_rows"] = padded_.height;
    counters["cropped_columns"] = cropped_.width;
    counters["cropped_rows"] = cropped_.height;
    return counters;
  }

 private:
  // The encoder needs the frame size, time base and rate, which only the first frame tells.
  void open_encoder(const Frame& frame, cv::Size size) {
    const auto format = picture_format(choices_.pix_fmt, pad_odd_sizes_, size, frame.tags);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(choices_.pix_fmt);
    const int width = format.size.width;
    const int height = format.size.height;
    padded_ = format.padded;
    cropped_ = format.cropped;

    const AVRational rate{frame.frame_rate.num, frame.frame_rate.den};
    AVRational time_base{frame.time_base.num, frame.time_base.den};
    // AVI stores one chunk per tick of its time base and fills gaps with empty chunks, so there
    // the encoder counts in frames, as the ffmpeg CLI's encoders always do.
    if (frame.frame_rate.valid() &&
        (!frame.time_base.valid() || std::strcmp(choices_.container->name, "avi") == 0)) {
      time_base = av_inv_q(rate);
    }
    if (time_base.num <= 0 || time_base.den <= 0) {
      throw std::runtime_error("frames carry neither a time base nor a frame rate");
    }

    const AVCodec* codec = choices_.codec;
    encoder_.reset(avcodec_alloc_context3(codec));
    if (!encoder_) throw std::bad_alloc();
    AVCodecContext* ctx = encoder_.get();
    ctx->width = width;
    ctx->height = height;
    ctx->pix_fmt = choices_.pix_fmt;
    ctx->time_base = time_base;
    if (frame.frame_rate.valid()) ctx->framerate = rate;
    ctx->thread_count = params_[threads];
    if (muxer_->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (format.yuv) {
      ctx->colorspace = format.colorspace;
      ctx->color_range = format.range;
    }
    if (frame.tags.color_primaries >= 0) {
      ctx->color_primaries = static_cast<AVColorPrimaries>(frame.tags.color_primaries);
    }
    if (frame.tags.color_trc >= 0) {
      ctx->color_trc = static_cast<AVColorTransferCharacteristic>(frame.tags.color_trc);
    }
    AVDictionary* options = nullptr;
    if (has_option(codec, "crf")) {
      av_dict_set_int(&options, "crf", params_[crf], 0);
    } else {
      // A fixed quantizer, as `ffmpeg -q:v` sets it; each frame carries it too (consume()).
      ctx->flags |= AV_CODEC_FLAG_QSCALE;
      ctx->global_quality = static_cast<int>(FF_QP2LAMBDA * params_[quality]);
    }
    if (has_option(codec, "preset")) {
      av_dict_set(&options, "preset", params_[preset].c_str(), 0);
    }
    int ret = avcodec_open2(ctx, codec, &options);
    av_dict_free(&options);
    if (ret < 0) {
      throw std::runtime_error("cannot open encoder '" + params_[EncodeParams::codec] + "' for " +
                               size_text(width, height) + " " + desc->name + " at time base " +
                               std::to_string(time_base.num) + "/" + std::to_string(time_base.den) +
                               ": " + libav::error_string(ret));
    }

    libav::check(avcodec_parameters_from_context(stream_->codecpar, ctx),
                 "cannot describe the output stream");
    stream_->time_base = ctx->time_base;  // a hint; the muxer may pick another
    if (frame.frame_rate.valid()) stream_->avg_frame_rate = rate;
    // Frames the source did not turn upright keep their rotation for players to apply.
    if (frame.tags.display_rotation != 0) {
      auto* matrix = reinterpret_cast<int32_t*>(
          av_stream_new_side_data(stream_, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t)));
      if (!matrix) throw std::bad_alloc();
      av_display_rotation_set(matrix, frame.tags.display_rotation);
    }
    libav::check(avformat_write_header(muxer_.get(), nullptr),
                 "cannot write the header of '" + output_.final_path().string() + "'");

    input_size_ = size;
  }

  // An swscale context from `source_format` at `size` into the picture format, converting into
  // YUV with the matrix and range the output is tagged with (BGR and gray are full range).
  static SwsContext* make_scaler(AVPixelFormat source_format, cv::Size size,
                                 const PictureFormat& format) {
    // swscale's fast BGR24 -> yuv420p path always writes limited range; the accurate path
    // honours a full-range output.
    const int flags =
        SWS_BICUBIC | (format.yuv && format.range == AVCOL_RANGE_JPEG ? SWS_ACCURATE_RND : 0);
    SwsContext* sws = sws_getContext(size.width, size.height, source_format, size.width,
                                     size.height, format.pix_fmt, flags, nullptr, nullptr, nullptr);
    if (sws && format.yuv) {
      sws_setColorspaceDetails(sws, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                               sws_getCoefficients(format.colorspace),
                               format.range == AVCOL_RANGE_JPEG, 0, 1 << 16, 1 << 16);
    }
    return sws;
  }

  // One picture in the encoder's format. Each thread keeps its own swscale context (they are
  // not thread-safe) and alignment buffer, made again only when the format changes. Gray into
  // planar YUV skips swscale: the same bytes from a table (stages/io/gray_yuv.h).
  static std::unique_ptr<AVFrame, libav::FrameDeleter> convert(const cv::Mat& image,
                                                               const PictureFormat& format,
                                                               PicturePool& pool) {
    struct Converter {
      std::unique_ptr<SwsContext, libav::SwsDeleter> sws;
      // Not a std::optional: GCC 12 warns that its payload "may be used uninitialized" in a
      // thread_local (a false positive).
      std::unique_ptr<const GrayToYuv> gray;
      std::tuple<int, int, int, int, int, int> made_for{};
      cv::Mat aligned;
    };
    thread_local Converter converter;
    const auto source_format = image.channels() == 3 ? AV_PIX_FMT_BGR24 : AV_PIX_FMT_GRAY8;
    const auto key =
        std::make_tuple(static_cast<int>(source_format), format.size.width, format.size.height,
                        static_cast<int>(format.pix_fmt), static_cast<int>(format.colorspace),
                        static_cast<int>(format.range));
    if (!converter.sws || converter.made_for != key) {
      converter.sws.reset(make_scaler(source_format, format.size, format));
      if (!converter.sws) {
        throw std::runtime_error("cannot set up the conversion to the encoder's format");
      }
      converter.gray.reset();
      if (source_format == AV_PIX_FMT_GRAY8) {
        converter.gray = std::make_unique<const GrayToYuv>(format.pix_fmt, [&](cv::Size size) {
          return make_scaler(AV_PIX_FMT_GRAY8, size, format);
        });
      }
      converter.made_for = key;
    }
    if (converter.gray && converter.gray->usable()) {
      auto picture = pool.get(format);
      converter.gray->convert(image(cv::Rect(cv::Point(), format.size - format.padded)),
                              format.padded, *picture);
      return picture;
    }

    const uint8_t* data = image.data;
    int step = static_cast<int>(image.step);
    // libav's SIMD code reads a little past the last pixel of a row: give it aligned rows with
    // room after the image, copying the image when it has none (as OpenCV's VideoWriter does).
    // Images from the decode stage have that room already. Padding an odd size happens in the
    // same copy.
    if (format.padded != cv::Size() || image.step % 32 != 0 ||
        image.datalimit - image.dataend < 32) {
      converter.aligned.create(format.size.height + 1, (format.size.width + 31) & ~31,
                               image.type());
      cv::Mat target = converter.aligned(cv::Rect(cv::Point(), format.size));
      cv::copyMakeBorder(image(cv::Rect(cv::Point(), format.size - format.padded)), target, 0,
                         format.padded.height, 0, format.padded.width, cv::BORDER_REPLICATE);
      data = converter.aligned.data;
      step = static_cast<int>(converter.aligned.step);
    }

    auto picture = pool.get(format);
    const uint8_t* src[4] = {data, nullptr, nullptr, nullptr};
    const int src_stride[4] = {step, 0, 0, 0};
    sws_scale(converter.sws.get(), src, src_stride, 0, format.size.height, picture->data,
              picture->linesize);
    return picture;
  }

  std::int64_t encoder_pts(const Frame& frame) {
    std::int64_t pts = frame.time_base.valid()
                           ? av_rescale_q(frame.pts, {frame.time_base.num, frame.time_base.den},
                                          encoder_->time_base)
                           : frames_;
    // Encoders refuse timestamps that do not increase; one that rounding to frame ticks made
    // equal to the last moves one tick on, so no frame is lost.
    if (frames_ > 0 && pts <= last_pts_) pts = last_pts_ + 1;
    last_pts_ = pts;
    ++frames_;
    return pts;
  }

  // Sends a picture (nullptr: end of stream, flush) and writes every packet the encoder returns.
  void encode(const AVFrame* picture) {
    int ret = 0;
    {
      ScopedPhase phase(metrics_, Phase::encode);
      ret = avcodec_send_frame(encoder_.get(), picture);
    }
    libav::check(ret, "encoder '" + params_[codec] + "' refused a frame");
    for (;;) {
      {
        ScopedPhase phase(metrics_, Phase::encode);
        ret = avcodec_receive_packet(encoder_.get(), packet_.get());
      }
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      libav::check(ret, "encoder '" + params_[codec] + "' failed");
      ScopedPhase phase(metrics_, Phase::mux);
      packet_->stream_index = stream_->index;
      if (auto it = durations_.find(packet_->pts); it != durations_.end()) {
        packet_->duration = it->second;
        durations_.erase(it);
      }
      av_packet_rescale_ts(packet_.get(), encoder_->time_base, stream_->time_base);
      copy_.write_until(packet_->dts, stream_->time_base);
      // Takes over the packet's data and leaves it blank.
      libav::check(av_interleaved_write_frame(muxer_.get(), packet_.get()),
                   "cannot write '" + output_.final_path().string() + "'");
    }
  }

  void discard() noexcept {
    copy_.close();
    encoder_.reset();
    muxer_.reset();
    output_.discard();
  }

  Params params_;
  bool pad_odd_sizes_;
  Choices choices_;
  StageMetrics* metrics_ = nullptr;
  output_file::PendingOutput output_;
  std::unique_ptr<AVFormatContext, libav::OutputFormatDeleter> muxer_;
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> encoder_;
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet_;
  StreamCopy copy_;
  mutable PicturePool pictures_;  // prepare() is const and runs on many threads; the pool is safe
  AVStream* stream_ = nullptr;
  cv::Size input_size_;
  cv::Size padded_;   // columns and rows repeated to fit the encoder's chroma subsampling
  cv::Size cropped_;  // columns and rows dropped for it
  std::int64_t frames_ = 0;
  std::int64_t last_pts_ = 0;
  // Encoder pts -> the source frame's duration (encoder time base) until its packet comes out,
  // so the last frame of a variable-rate source lasts as long as it did there.
  std::map<std::int64_t, std::int64_t> durations_;
};

}  // namespace

StageInfo encode_stage() {
  return stage_info<Encode>(
      {.type = "encode",
       .resource = ResourceClass::io,
       .ordering = Ordering::serial_in_order,
       .summary =
           "Encodes frames with libav (FFmpeg) into a video file, with the input's audio, "
           "subtitles and metadata copied alongside (docs/config.md, media fidelity); renamed "
           "into place when complete.",
       .example = "- { name: video, type: encode, params: { codec: libx264, crf: 23 } }",
       .params = {Encode::path, Encode::codec, Encode::crf, Encode::preset, Encode::quality,
                  Encode::threads, Encode::pix_fmt, Encode::odd_size, Encode::audio,
                  Encode::metadata},
       .prepares = true,
       .helper_threads_phase = "encode",
       .check = [](const Params& params) { return resolve(params).problems; },
       .output_names = output_file::named_by(Encode::path)});
}

}  // namespace framepipe::stages
