#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "pipeline/item.h"

namespace framepipe {

// A time base or frame rate as an exact fraction, as libav keeps them.
struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den == 0 ? 0.0 : static_cast<double>(num) / den; }
  bool valid() const { return num > 0 && den > 0; }
};

// Told around the conversion of a frame's deferred pixels, on the thread that runs it, so the
// engine can report the conversion as the work of the source that deferred it rather than of
// the call that happened to read the pixels first.
class ConversionWatcher {
 public:
  virtual void conversion_started(std::int64_t frame) const = 0;
  virtual void conversion_ended(std::int64_t frame, bool failed) const = 0;

 protected:
  ~ConversionWatcher() = default;
};

// Pixels that a source has not converted yet (a decoded YUV picture, say). The conversion
// runs in whichever stage first asks for the image, so it happens in parallel and not at all
// when no stage reads pixels. Shared between branch copies of a frame; converted once.
class DeferredImage {
 public:
  virtual ~DeferredImage() = default;
  // The converted pixels; `watcher`, when set, is told around the conversion of frame `frame`.
  const cv::Mat& image(const ConversionWatcher* watcher = nullptr, std::int64_t frame = -1) const;
  // The picture as 8-bit gray taken straight from the source's own pixels (a YUV picture's
  // planes) without the conversion to BGR, or an empty Mat when there is no such shortcut.
  // It must be the gray cv::cvtColor(image(), BGR2GRAY) would give, but for rounding and for
  // colours the BGR picture had to clip.
  virtual cv::Mat gray() const { return {}; }

 protected:
  virtual cv::Mat convert() const = 0;

 private:
  mutable std::once_flag once_;
  mutable cv::Mat image_;
};

// What a sink's prepare() makes for its own consume() (an encoder's converted picture): each
// sink derives its own type and reads it back with Frame::prepared_as.
class PreparedFrame {
 public:
  virtual ~PreparedFrame() = default;
};

// Something an ML stage found in a frame.
struct Detection {
  cv::Rect box;       // in the frame's pixel coordinates
  float score = 0;    // the detector's confidence (its own scale)
  std::string label;  // "person", "face", a class name
  std::string stage;  // the stage that found it
};

// How the source described its pictures, for sinks that write video. Colour tags use libav's
// numbering (AVColorSpace, AVColorRange, AVColorPrimaries, AVColorTransferCharacteristic); -1
// where the source did not say.
struct PictureTags {
  int colorspace = -1;  // the YUV matrix the source's pixels were converted with
  int color_range = -1;
  int color_primaries = -1;
  int color_trc = -1;
  // Degrees clockwise a player must still turn the image to show it upright (0 once the
  // source rotated the pixels itself).
  int display_rotation = 0;
};

// One decoded picture travelling through the graph. Copying a Frame is cheap: cv::Mat shares
// its pixels. Stages never write into the pixels of the image they received; they build a
// new cv::Mat and set it, because branches may share the same pixels.
class Frame {
 public:
  std::int64_t index = 0;     // 0-based position in the source's decode order
  std::int64_t pts = 0;       // presentation timestamp, in time_base units
  Rational time_base;         // of pts
  std::int64_t duration = 0;  // how long the picture shows, in time_base units; 0 = unknown
  Rational frame_rate;        // nominal rate of the source stream, when known
  PictureTags tags;           // colour and orientation, as the source described them
  std::string source;         // the input file this frame came from
  // In a run over many items (pipeline/item.h): the item this frame belongs to, which names
  // its outputs and takes its failure; null in a run over one input.
  ItemPtr item;
  // Results that stages attach and sinks write out; branch copies carry their own copy.
  std::vector<Detection> detections;      // what detectors found, in the order they added it
  std::map<std::string, double> scalars;  // per-frame measurements, e.g. "motion"
  // What the sink's prepare() made for its own consume(). Branch copies are made before
  // prepare(), so each has its own.
  std::shared_ptr<PreparedFrame> prepared;
  // `prepared` as the sink's own type; null when there is none or it is of another type.
  template <typename T>
  T* prepared_as() const {
    return dynamic_cast<T*>(prepared.get());
  }

  // The pixels (BGR or single-channel 8-bit), converting deferred pixels on first use.
  const cv::Mat& image();
  // The source's gray shortcut (DeferredImage::gray) while no stage has read image() yet; else
  // empty, and the caller converts image() itself.
  cv::Mat deferred_gray() const { return deferred_ ? deferred_->gray() : cv::Mat(); }
  void set_image(cv::Mat image);
  void set_deferred(std::shared_ptr<const DeferredImage> deferred);
  const std::shared_ptr<const DeferredImage>& deferred() const { return deferred_; }
  // Set by the engine while something observes the run: told when image() converts deferred
  // pixels. Branch copies keep it.
  void watch_conversion(const ConversionWatcher* watcher) { conversion_watcher_ = watcher; }

  // A dropped frame keeps flowing (so in-order stages see every index) without pixels;
  // stages are not called with it.
  void drop();
  bool dropped() const { return dropped_; }

  // Set by the engine: the frame's slot in the frames-in-flight budget, released when the
  // last copy of the frame is destroyed.
  void hold_flight_slot(std::shared_ptr<const void> slot) { flight_slot_ = std::move(slot); }

 private:
  // Declared first so it is destroyed last: the slot returns only after the pixels are freed.
  std::shared_ptr<const void> flight_slot_;
  cv::Mat image_;
  std::shared_ptr<const DeferredImage> deferred_;
  const ConversionWatcher* conversion_watcher_ = nullptr;
  bool dropped_ = false;
};

using FramePtr = std::shared_ptr<Frame>;

}  // namespace framepipe
