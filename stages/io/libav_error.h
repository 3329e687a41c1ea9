#pragma once

#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace framepipe::stages::libav {

// libav's message for an AVERROR code ("No such file or directory", "Invalid data found...").
std::string error_string(int code);

// Returns `code` when it is not an error; otherwise throws std::runtime_error("<what>: <cause>").
int check(int code, const std::string& what);

// libav prints encoder statistics, warnings and per-macroblock decode errors on stderr;
// framepipe reports failures itself, one line each, so libav keeps only fatal messages. Its
// error messages are kept, per thread, for last_logged_error().
void quiet_logging();

// The last error message libav logged on this thread since the previous call (e.g. GnuTLS's
// "Unable to verify peer certificate", which libav returns only as EIO); "" when none.
std::string take_last_logged_error();

struct InputFormatDeleter {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
// Closes the output file too, when one was opened.
struct OutputFormatDeleter {
  void operator()(AVFormatContext* context) const {
    if (!(context->oformat->flags & AVFMT_NOFILE)) avio_closep(&context->pb);
    avformat_free_context(context);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsDeleter {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};

}  // namespace framepipe::stages::libav
