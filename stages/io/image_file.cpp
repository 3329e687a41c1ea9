#include "stages/io/image_file.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cctype>
#include <memory>
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

std::vector<unsigned char> encode_png(const cv::Mat& image, int compression_level) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (codec == nullptr) throw std::runtime_error("this libavcodec has no PNG encoder");
  std::unique_ptr<AVCodecContext, libav::CodecContextDeleter> context(
      avcodec_alloc_context3(codec));
  const bool gray = image.channels() == 1;
  context->width = image.cols;
  context->height = image.rows;
  context->pix_fmt = gray ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
  context->time_base = {1, 1};
  context->compression_level = compression_level;
  av_opt_set(context->priv_data, "pred", "mixed", 0);
  libav::check(avcodec_open2(context.get(), codec, nullptr), "cannot open the PNG encoder");

  std::unique_ptr<AVFrame, libav::FrameDeleter> frame(av_frame_alloc());
  frame->width = image.cols;
  frame->height = image.rows;
  frame->format = context->pix_fmt;
  libav::check(av_frame_get_buffer(frame.get(), 0), "cannot allocate a picture");
  cv::Mat pixels(image.rows, image.cols, image.type(), frame->data[0],
                 static_cast<std::size_t>(frame->linesize[0]));
  if (gray) {
    image.copyTo(pixels);
  } else {
    cv::cvtColor(image, pixels, cv::COLOR_BGR2RGB);
  }

  libav::check(avcodec_send_frame(context.get(), frame.get()), "cannot encode the PNG");
  std::unique_ptr<AVPacket, libav::PacketDeleter> packet(av_packet_alloc());
  libav::check(avcodec_receive_packet(context.get(), packet.get()), "cannot encode the PNG");
  return {packet->data, packet->data + packet->size};
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

}  // namespace

std::optional<Format> format_of(const std::filesystem::path& path) {
  auto extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".png") return Format::png;
  if (extension == ".jpg" || extension == ".jpeg") return Format::jpeg;
  return std::nullopt;
}

std::vector<unsigned char> encode(const cv::Mat& image, Format format, int setting) {
  require_8bit_gray_or_bgr(image);
  return format == Format::png ? encode_png(image, setting) : encode_jpeg(image, setting);
}

}  // namespace framepipe::stages::image_file
