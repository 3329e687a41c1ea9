// encode: encodes frames with a libav encoder into a media file, written under a temporary name
// and renamed when complete.
//   - { name: video, type: encode, params: { codec: libx264, crf: 23, preset: veryfast } }

#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include "pipeline/stage.h"
#include "stages/io/libav_error.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

enum Phase : std::size_t { kConvert, kEncode, kMux };

// What the parameters name in libav, with one message per problem. Shared by config validation
// and open(), so a bad name fails before any frame is decoded either way.
struct Choices {
  const AVCodec* codec = nullptr;
  AVPixelFormat pix_fmt = AV_PIX_FMT_NONE;
  const AVOutputFormat* container = nullptr;
  std::vector<std::string> problems;
};

Choices resolve(const Params& params) {
  Choices choices;
  const auto& codec = params.string("codec");
  choices.codec = avcodec_find_encoder_by_name(codec.c_str());
  if (!choices.codec || choices.codec->type != AVMEDIA_TYPE_VIDEO) {
    choices.codec = nullptr;
    choices.problems.push_back("'codec': this FFmpeg has no video encoder '" + codec +
                               "' (try libx264, mpeg4, ffv1 or libvpx-vp9)");
  }

  const auto& pix_fmt = params.string("pix_fmt");
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

  const auto& path = params.string("path");
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

bool has_option(const AVCodec* codec, const char* name) {
  const AVClass* priv_class = codec->priv_class;
  return priv_class &&
         av_opt_find(&priv_class, name, nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ) != nullptr;
}

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

class Encode : public SinkStage {
 public:
  explicit Encode(const Params& params) : params_(params) {}
  ~Encode() override { discard(); }

  void open(const RunContext& context) override {
    libav::quiet_logging();
    metrics_ = context.metrics;
    choices_ = resolve(params_);
    if (!choices_.problems.empty()) throw std::runtime_error(choices_.problems.front());

    output_.start(context, params_.string("path"));
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
  }

  void consume(Frame& frame) override {
    {
      ScopedPhase phase(metrics_, kConvert);
      const cv::Mat& image = frame.image();
      if (image.type() != CV_8UC3 && image.type() != CV_8UC1) {
        throw std::runtime_error("encode takes 8-bit BGR or gray frames, got " +
                                 cv::typeToString(image.type()));
      }
      if (!encoder_) open_encoder(frame, image.size());
      if (image.size() != input_size_) {
        throw std::runtime_error("frame size changed from " +
                                 size_text(input_size_.width, input_size_.height) + " to " +
                                 size_text(image.cols, image.rows) + "; an encoder needs one size");
      }
      convert(image);
      picture_->pts = encoder_pts(frame);
    }
    encode(picture_.get());
  }

  void finish() override {
    if (!encoder_) {
      discard();
      throw std::runtime_error("no frames to encode; '" + output_.final_path().string() +
                               "' not written");
    }
    encode(nullptr);
    {
      ScopedPhase phase(metrics_, kMux);
      libav::check(av_write_trailer(muxer_.get()),
                   "cannot finish '" + output_.final_path().string() + "'");
      if (muxer_->pb) {
        libav::check(avio_closep(&muxer_->pb),
                     "cannot write '" + output_.final_path().string() + "'");
      }
    }
    muxer_.reset();
    encoder_.reset();
    output_.commit();
  }

  void abort() noexcept override { discard(); }

  std::vector<fs::path> outputs() const override { return output_.committed(); }

 private:
  // The encoder needs the frame size, time base and rate, which only the first frame tells.
  void open_encoder(const Frame& frame, cv::Size size) {
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(choices_.pix_fmt);
    // Chroma-subsampled formats (4:2:0, 4:2:2) need sizes their subsampling divides: drop the
    // last odd column or row rather than scale the picture.
    const int width = size.width & ~((1 << desc->log2_chroma_w) - 1);
    const int height = size.height & ~((1 << desc->log2_chroma_h) - 1);
    if (width <= 0 || height <= 0) {
      throw std::runtime_error("frames of " + size_text(size.width, size.height) +
                               " are too small to encode as " + desc->name);
    }

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
    ctx->thread_count = static_cast<int>(params_.integer("threads"));
    if (muxer_->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    // swscale converts BGR with the BT.601 matrix; say so, or players guess (BT.709 for HD) and
    // shift the colours.
    if (!(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3) {
      ctx->colorspace = AVCOL_SPC_SMPTE170M;
      ctx->color_range =
          std::strncmp(desc->name, "yuvj", 4) == 0 ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    }
    AVDictionary* options = nullptr;
    if (has_option(codec, "crf")) {
      av_dict_set_int(&options, "crf", params_.integer("crf"), 0);
    } else {
      // A fixed quantizer, as `ffmpeg -q:v` sets it; each frame carries it too (convert()).
      ctx->flags |= AV_CODEC_FLAG_QSCALE;
      ctx->global_quality = static_cast<int>(FF_QP2LAMBDA * params_.integer("quality"));
    }
    if (has_option(codec, "preset")) {
      av_dict_set(&options, "preset", params_.string("preset").c_str(), 0);
    }
    int ret = avcodec_open2(ctx, codec, &options);
    av_dict_free(&options);
    if (ret < 0) {
      throw std::runtime_error("cannot open encoder '" + params_.string("codec") + "' for " +
                               size_text(width, height) + " " + desc->name + " at time base " +
                               std::to_string(time_base.num) + "/" + std::to_string(time_base.den) +
                               ": " + libav::error_string(ret));
    }

    stream_ = avformat_new_stream(muxer_.get(), nullptr);
    if (!stream_) throw std::bad_alloc();
    libav::check(avcodec_parameters_from_context(stream_->codecpar, ctx),
                 "cannot describe the output stream");
    stream_->time_base = ctx->time_base;  // a hint; the muxer may pick another
    if (frame.frame_rate.valid()) stream_->avg_frame_rate = rate;
    libav::check(avformat_write_header(muxer_.get(), nullptr),
                 "cannot write the header of '" + output_.final_path().string() + "'");

    picture_.reset(av_frame_alloc());
    if (!picture_) throw std::bad_alloc();
    picture_->format = ctx->pix_fmt;
    picture_->width = width;
    picture_->height = height;
    libav::check(av_frame_get_buffer(picture_.get(), 0), "cannot allocate a picture");
    input_size_ = size;
  }

  void convert(const cv::Mat& image) {
    const uint8_t* data = image.data;
    int step = static_cast<int>(image.step);
    // libav's SIMD code reads a little past the last pixel of a row: give it aligned rows with
    // room after the image, copying the image when it has none (as OpenCV's VideoWriter does).
    // Images from the decode stage have that room already.
    if (image.step % 32 != 0 || image.datalimit - image.dataend < 32) {
      padded_.create(image.rows + 1, (image.cols + 31) & ~31, image.type());
      image.copyTo(padded_(cv::Rect(0, 0, image.cols, image.rows)));
      data = padded_.data;
      step = static_cast<int>(padded_.step);
    }
    const auto format = image.channels() == 3 ? AV_PIX_FMT_BGR24 : AV_PIX_FMT_GRAY8;
    sws_.reset(sws_getCachedContext(sws_.release(), picture_->width, picture_->height, format,
                                    picture_->width, picture_->height, choices_.pix_fmt,
                                    SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws_) throw std::runtime_error("cannot set up the conversion to the encoder's format");
    // The encoder may still hold the previous picture (lookahead); then this gets a new buffer.
    libav::check(av_frame_make_writable(picture_.get()), "cannot allocate a picture");
    const uint8_t* src[4] = {data, nullptr, nullptr, nullptr};
    const int src_stride[4] = {step, 0, 0, 0};
    sws_scale(sws_.get(), src, src_stride, 0, picture_->height, picture_->data, picture_->linesize);
    picture_->quality = encoder_->global_quality;
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
      ScopedPhase phase(metrics_, kEncode);
      ret = avcodec_send_frame(encoder_.get(), picture);
    }
    libav::check(ret, "encoder '" + params_.string("codec") + "' refused a frame");
    for (;;) {
      {
        ScopedPhase phase(metrics_, kEncode);
        ret = avcodec_receive_packet(encoder_.get(), packet_.get());
      }
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      libav::check(ret, "encoder '" + params_.string("codec") + "' failed");
      ScopedPhase phase(metrics_, kMux);
      packet_->stream_index = stream_->index;
      av_packet_rescale_ts(packet_.get(), encoder_->time_base, stream_->time_base);
      // Takes over the packet's data and leaves it blank.
      libav::check(av_interleaved_write_frame(muxer_.get(), packet_.get()),
                   "cannot write '" + output_.final_path().string() + "'");
    }
  }

  void discard() noexcept {
    encoder_.reset();
    muxer_.reset();
    output_.discard();
  }

  Params params_;
  Choices choices_;
  StageMetrics* metrics_ = nullptr;
  output_file::PendingOutput output_;
  std::unique_ptr<AVFormatContext, libav::OutputFormatDeleter> muxer_;
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> encoder_;
  std::unique_ptr<SwsContext, libav::SwsDeleter> sws_;
  std::unique_ptr<AVFrame, libav::FrameDeleter> picture_;
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet_;
  AVStream* stream_ = nullptr;
  cv::Size input_size_;
  cv::Mat padded_;
  std::int64_t frames_ = 0;
  std::int64_t last_pts_ = 0;
};

}  // namespace

StageInfo encode_stage() {
  return {
      .type = "encode",
      .kind = StageKind::sink,
      .resource = ResourceClass::io,
      .ordering = Ordering::serial_in_order,
      .summary =
          "Encodes frames with libav (FFmpeg) into a video file, renamed into place when "
          "complete.",
      .example = "- { name: video, type: encode, params: { codec: libx264, crf: 23 } }",
      .params =
          {ParamSpec::string("path", "{stem}.mp4",
                             "output file under output.dir; {stem}: the input's name without "
                             "extension, {ext}: its extension, {stage}: this stage's name; the "
                             "extension picks the container (mp4, mkv, mov, avi, webm)"),
           ParamSpec::string("codec", "libx264",
                             "libav encoder name: libx264, mpeg4, ffv1, libvpx-vp9, ..."),
           ParamSpec::integer("crf", 23,
                              "constant rate factor, for encoders that have one (libx264, "
                              "libvpx-vp9): lower is better and larger")
               .range(0, 51),
           ParamSpec::string("preset", "veryfast",
                             "speed/size trade-off, for encoders that have presets (libx264: "
                             "ultrafast ... veryslow)"),
           ParamSpec::integer("quality", 5,
                              "fixed quantizer for encoders without crf (mpeg4), like ffmpeg "
                              "-q:v: lower is better and larger")
               .range(1, 31),
           ParamSpec::integer("threads", 0, "encoder threads; 0 lets libav choose").range(0, 64),
           ParamSpec::string("pix_fmt", "yuv420p",
                             "pixel format the encoder gets: yuv420p plays everywhere, yuv444p "
                             "keeps full colour")},
      .phases = {"convert", "encode", "mux"},
      .helper_threads_phase = "encode",
      .create = [](const StageSetup& setup) { return std::make_unique<Encode>(setup.params); },
      .check = [](const Params& params) { return resolve(params).problems; }};
}

}  // namespace framepipe::stages
