#include "stages/io/image_file.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <new>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>

#include "stages/io/libav_error.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace framepipe::stages::image_file {

namespace {

void require_8bit_gray_or_bgr(const cv::Mat& image) {
  if (image.type() != CV_8UC1 && image.type() != CV_8UC3) {
    throw std::runtime_error("images are saved from 8-bit gray or BGR pictures, got " +
                             cv::typeToString(image.type()));
  }
}

// `image` as one picture of libavcodec's `codec` in `format` (gray8, or a colour format the
// picture is converted into); `configure` sets the encoder's options before it opens.
template <typename Configure>
std::vector<unsigned char> encode_with_libav(const cv::Mat& image, AVCodecID codec_id,
                                             const char* codec_name, AVPixelFormat colour_format,
                                             Configure configure) {
  const AVCodec* codec =
      codec_name ? avcodec_find_encoder_by_name(codec_name) : avcodec_find_encoder(codec_id);
  if (codec == nullptr) {
    throw std::runtime_error(std::string("this libavcodec has no ") + avcodec_get_name(codec_id) +
                             " encoder");
  }
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> context(
      avcodec_alloc_context3(codec));
  if (!context) throw std::bad_alloc();
  const bool gray = image.channels() == 1 && colour_format != AV_PIX_FMT_BGRA;
  context->width = image.cols;
  context->height = image.rows;
  context->pix_fmt = gray ? AV_PIX_FMT_GRAY8 : colour_format;
  context->time_base = {1, 1};
  configure(*context);
  const std::string what = avcodec_get_name(codec_id);
  libav::check(avcodec_open2(context.get(), codec, nullptr),
               "cannot open the " + what + " encoder");

  std::unique_ptr<AVFrame, libav::FrameDeleter> frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  frame->width = image.cols;
  frame->height = image.rows;
  frame->format = context->pix_fmt;
  libav::check(av_frame_get_buffer(frame.get(), 0), "cannot allocate a picture");
  const int type = gray ? CV_8UC1 : colour_format == AV_PIX_FMT_BGRA ? CV_8UC4 : CV_8UC3;
  cv::Mat pixels(image.rows, image.cols, type, frame->data[0],
                 static_cast<std::size_t>(frame->linesize[0]));
  if (gray || colour_format == AV_PIX_FMT_BGR24) {
    image.copyTo(pixels);
  } else if (colour_format == AV_PIX_FMT_BGRA) {
    cv::cvtColor(image, pixels, image.channels() == 1 ? cv::COLOR_GRAY2BGRA : cv::COLOR_BGR2BGRA);
  } else {
    cv::cvtColor(image, pixels, cv::COLOR_BGR2RGB);
  }

  libav::check(avcodec_send_frame(context.get(), frame.get()), "cannot encode the " + what);
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  libav::check(avcodec_receive_packet(context.get(), packet.get()), "cannot encode the " + what);
  return {packet->data, packet->data + packet->size};
}

std::vector<unsigned char> encode_png(const cv::Mat& image, int compression_level) {
  return encode_with_libav(image, AV_CODEC_ID_PNG, nullptr, AV_PIX_FMT_RGB24,
                           [&](AVCodecContext& context) {
                             context.compression_level = compression_level;
                             av_opt_set(context.priv_data, "pred", "mixed", 0);
                           });
}

std::vector<unsigned char> encode_webp(const cv::Mat& image, int quality) {
  return encode_with_libav(image, AV_CODEC_ID_WEBP, "libwebp", AV_PIX_FMT_BGRA,
                           [&](AVCodecContext& context) {
                             av_opt_set_double(context.priv_data, "quality", quality, 0);
                           });
}

struct TurboJpegDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
struct TurboJpegBufferDeleter {
  void operator()(unsigned char* buffer) const { tjFree(buffer); }
};

// 4:2:0 chroma and the accurate integer DCT: libjpeg's defaults, which cv::imwrite keeps.
std::vector<unsigned char> encode_jpeg(const cv::Mat& image, int quality) {
  std::unique_ptr<void, TurboJpegDeleter> compressor(tjInitCompress());
  if (!compressor)
    throw std::runtime_error(std::string("libjpeg-turbo: ") + tjGetErrorStr2(nullptr));
  const bool gray = image.channels() == 1;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  // libjpeg reads quality 0 as 1, and so does cv::imwrite; TurboJPEG refuses it.
  const int status =
      tjCompress2(compressor.get(), image.data, image.cols, static_cast<int>(image.step),
                  image.rows, gray ? TJPF_GRAY : TJPF_BGR, &buffer, &size,
                  gray ? TJSAMP_GRAY : TJSAMP_420, std::max(quality, 1), TJFLAG_ACCURATEDCT);
  std::unique_ptr<unsigned char, TurboJpegBufferDeleter> owned(buffer);
  if (status != 0) {
    throw std::runtime_error(std::string("libjpeg-turbo: ") + tjGetErrorStr2(compressor.get()));
  }
  return {buffer, buffer + size};
}

std::unique_ptr<void, TurboJpegDeleter> make_decompressor() {
  std::unique_ptr<void, TurboJpegDeleter> decompressor(tjInitDecompress());
  if (!decompressor)
    throw std::runtime_error(std::string("libjpeg-turbo: ") + tjGetErrorStr2(nullptr));
  return decompressor;
}

}  // namespace

std::optional<Format> format_of(const std::filesystem::path& path) {
  auto extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".png") return Format::png;
  if (extension == ".jpg" || extension == ".jpeg") return Format::jpeg;
  if (extension == ".bmp") return Format::bmp;
  if (extension == ".tif" || extension == ".tiff") return Format::tiff;
  if (extension == ".webp") return Format::webp;
  return std::nullopt;
}

std::string extensions_text() { return ".png, .jpg, .jpeg, .bmp, .tif, .tiff or .webp"; }

std::vector<unsigned char> encode(const cv::Mat& image, Format format, int setting) {
  require_8bit_gray_or_bgr(image);
  auto no_options = [](AVCodecContext&) {};
  switch (format) {
    case Format::png:
      return encode_png(image, setting);
    case Format::jpeg:
      return encode_jpeg(image, setting);
    case Format::bmp:
      return encode_with_libav(image, AV_CODEC_ID_BMP, nullptr, AV_PIX_FMT_BGR24, no_options);
    case Format::tiff:
      return encode_with_libav(image, AV_CODEC_ID_TIFF, nullptr, AV_PIX_FMT_RGB24, no_options);
    case Format::webp:
      return encode_webp(image, setting);
  }
  throw std::logic_error("unknown image format");
}

bool is_jpeg(const unsigned char* bytes, std::size_t size) {
  return size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

cv::Size jpeg_size(const unsigned char* bytes, std::size_t size) {
  const auto decompressor = make_decompressor();
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(decompressor.get(), bytes, size, &width, &height, &subsampling,
                          &colorspace) != 0) {
    throw std::runtime_error(std::string("not a JPEG libjpeg-turbo can read: ") +
                             tjGetErrorStr2(decompressor.get()));
  }
  return {width, height};
}

cv::Mat decode_jpeg(const unsigned char* bytes, std::size_t size) {
  const cv::Size stored = jpeg_size(bytes, size);
  const auto decompressor = make_decompressor();
  cv::Mat image(stored, CV_8UC3);
  // Flags 0: the accurate integer DCT and smooth (fancy) chroma upsampling, libjpeg's defaults,
  // which cv::imread keeps. A warning (damaged data) fails it too: the picture would be partly
  // gray.
  if (tjDecompress2(decompressor.get(), bytes, size, image.data, image.cols,
                    static_cast<int>(image.step), image.rows, TJPF_BGR, 0) != 0) {
    throw std::runtime_error(std::string("damaged JPEG: ") + tjGetErrorStr2(decompressor.get()));
  }
  return image;
}

}  // namespace framepipe::stages::image_file
