// dnn: runs a neural network (cv::dnn: ONNX, Caffe, TensorFlow, Darknet, Torch) on each frame,
// as a classifier or as an SSD-style detector.
//   - { name: objects, type: dnn, params: { model: ssd.onnx, mode: detect, width: 300 } }
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <opencv2/dnn.hpp>
#include <optional>
#include <sstream>

#include "pipeline/stage.h"
#include "stages/ml/best_first.h"
#include "stages/ml/instance_pool.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

const std::map<std::string, cv::dnn::Backend> kBackends = {
    {"default", cv::dnn::DNN_BACKEND_DEFAULT},
    {"opencv", cv::dnn::DNN_BACKEND_OPENCV},
    {"openvino", cv::dnn::DNN_BACKEND_INFERENCE_ENGINE},
    {"vulkan", cv::dnn::DNN_BACKEND_VKCOM},
    {"cuda", cv::dnn::DNN_BACKEND_CUDA}};
const std::map<std::string, cv::dnn::Target> kTargets = {
    {"cpu", cv::dnn::DNN_TARGET_CPU},
    {"opencl", cv::dnn::DNN_TARGET_OPENCL},
    {"opencl_fp16", cv::dnn::DNN_TARGET_OPENCL_FP16},
    {"vulkan", cv::dnn::DNN_TARGET_VULKAN},
    {"cuda", cv::dnn::DNN_TARGET_CUDA},
    {"cuda_fp16", cv::dnn::DNN_TARGET_CUDA_FP16}};

std::vector<std::string> keys(const auto& map) {
  std::vector<std::string> names;
  for (const auto& [name, value] : map) names.push_back(name);
  return names;
}

// "104, 117.5, 123" -> {104, 117.5, 123}; one to four numbers.
std::optional<cv::Scalar> parse_mean(const std::string& text) {
  cv::Scalar mean = cv::Scalar::all(0);
  std::istringstream in(text);
  std::string item;
  int count = 0;
  while (std::getline(in, item, ',')) {
    if (count == 4) return std::nullopt;
    try {
      std::size_t used = 0;
      mean[count++] = std::stod(item, &used);
      if (item.find_first_not_of(" \t", used) != std::string::npos) return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (count == 0) return std::nullopt;
  // One number applies to every channel, as in Caffe's and PyTorch's configs.
  if (count == 1) mean = cv::Scalar::all(mean[0]);
  return mean;
}

std::vector<std::string> read_labels(const std::string& path) {
  std::vector<std::string> labels;
  if (path.empty()) return labels;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("'labels': cannot read '" + path + "'");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  return labels;
}

class Dnn : public TransformStage {
 public:
  static inline const Param<std::string> model{
      "model", "",
      "network file for cv::dnn::readNet: .onnx, .caffemodel, .pb, "
      ".weights, .t7 (required)"};
  static inline const Param<std::string> config{
      "config", "",
      "second file some formats need: .prototxt (Caffe), .pbtxt "
      "(TensorFlow), .cfg (Darknet)"};
  static inline const auto mode = Param<std::string>::choice(
      "mode", {"classify", "detect"}, "classify",
      "what the output holds: class scores, or SSD rows [image_id, class, "
      "confidence, x1, y1, x2, y2] with corners in 0..1");
  static inline const auto width =
      Param<int>{"width", 224, "network input width in pixels"}.range(1, 8192);
  static inline const auto height =
      Param<int>{"height", 224, "network input height in pixels"}.range(1, 8192);
  static inline const auto scale =
      Param<double>{"scale", 1.0,
                    "multiplies pixel values after the mean is subtracted (1/255 = "
                    "0.00392157 for 0..1 inputs)"}
          .range(0, 1000);
  static inline const Param<std::string> mean{
      "mean", "0",
      "subtracted from each channel, in the network's channel order (R,G,B "
      "when swap_rb): 'r,g,b' or one number for all"};
  static inline const Param<bool> swap_rb{"swap_rb", false, "feed RGB instead of the frame's BGR"};
  static inline const Param<bool> crop{
      "crop", false,
      "keep the aspect ratio: scale to cover the input size and take the "
      "centre, instead of stretching"};
  static inline const Param<std::string> output{
      "output", "", "output layer to read; empty = the network's output"};
  static inline const auto top_k =
      Param<int>{"top_k", 1, "classify: how many classes to report, best first"}.range(1, 1000);
  static inline const Param<std::string> labels{
      "labels", "", "text file, line N (from 0) names class N; empty = class numbers"};
  static inline const auto confidence =
      Param<double>{"confidence", 0.5, "detect: drop boxes below this confidence"}.range(0, 1);
  static inline const auto nms =
      Param<double>{"nms", 0.45, "detect: per-class non-maximum suppression IoU threshold; 0 = off"}
          .range(0, 1);
  static inline const auto backend =
      Param<std::string>::choice("backend", keys(kBackends), "default",
                                 "cv::dnn backend; default is OpenCV's own (Debian's OpenCV has no "
                                 "other)");
  static inline const auto target =
      Param<std::string>::choice("target", keys(kTargets), "cpu", "device the backend runs on");

  // The network with its backend and target set; used by check() too, to prove the files load.
  static std::unique_ptr<cv::dnn::Net> load_net(const Params& params) {
    auto net = std::make_unique<cv::dnn::Net>(cv::dnn::readNet(params[model], params[config]));
    if (net->empty()) {
      throw std::runtime_error("'model': '" + params[model] + "' holds no network");
    }
    net->setPreferableBackend(kBackends.at(params[backend]));
    net->setPreferableTarget(kTargets.at(params[target]));
    return net;
  }

  explicit Dnn(const StageSetup& setup)
      : name_(setup.name),
        params_(setup.params),
        detect_(setup.params[mode] == "detect"),
        size_(setup.params[width], setup.params[height]),
        scale_(setup.params[scale]),
        mean_(*parse_mean(setup.params[mean])),
        swap_rb_(setup.params[swap_rb]),
        crop_(setup.params[crop]),
        output_(setup.params[output]),
        top_k_(setup.params[top_k]),
        confidence_(static_cast<float>(setup.params[confidence])),
        nms_(static_cast<float>(setup.params[nms])),
        labels_(read_labels(setup.params[labels])),
        pool_([this] { return load_net(params_); }) {}

  void open(const RunContext&) override { pool_.add(load_net(params_)); }

  bool process(Frame& frame) override {
    const cv::Mat& image = frame.image();
    const cv::Mat blob = cv::dnn::blobFromImage(image, scale_, size_, mean_, swap_rb_, crop_);
    cv::Mat out;
    {
      // cv::dnn::Net::forward is not thread-safe (the net holds its layers' blobs), so each
      // call borrows a net of its own from the pool: one per frame in flight.
      auto net = pool_.acquire();
      net->setInput(blob);
      out = net->forward(output_).clone();
    }
    if (detect_) {
      add_boxes(out, image.size(), frame);
    } else {
      add_classes(out, image.size(), frame);
    }
    return true;
  }

 private:
  std::string label(int id) const {
    return id >= 0 && id < static_cast<int>(labels_.size()) ? labels_[id] : std::to_string(id);
  }

  // Classification: the top_k outputs, highest first, each as a detection whose box is the
  // whole frame (so draw_detections and write_detections show them like any other result).
  void add_classes(const cv::Mat& out, cv::Size size, Frame& frame) const {
    const cv::Mat scores = out.reshape(1, 1);
    std::vector<int> order(scores.total());
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min<int>(top_k_, static_cast<int>(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return scores.at<float>(a) > scores.at<float>(b); });
    for (int i = 0; i < k; ++i) {
      frame.detections.push_back(
          {cv::Rect({0, 0}, size), scores.at<float>(order[i]), label(order[i]), name_});
    }
  }

  // SSD-style output: rows of [image_id, class, confidence, x1, y1, x2, y2], corners
  // normalized to the network's input. With crop the input was the centre of the frame scaled
  // to cover the network's size; the corners map back into that region.
  void add_boxes(const cv::Mat& out, cv::Size size, Frame& frame) const {
    if (out.total() % 7 != 0 || out.size[out.dims - 1] != 7) {
      throw std::runtime_error("mode detect expects an SSD-style output of rows of 7 values, got " +
                               shape_text(out));
    }
    double region_w = size.width;
    double region_h = size.height;
    if (crop_) {
      const double factor = std::max(static_cast<double>(size_.width) / size.width,
                                     static_cast<double>(size_.height) / size.height);
      region_w = size_.width / factor;
      region_h = size_.height / factor;
    }
    const double left = (size.width - region_w) / 2;
    const double top = (size.height - region_h) / 2;
    const cv::Rect bounds({0, 0}, size);

    const cv::Mat rows = out.reshape(1, static_cast<int>(out.total() / 7));
    std::map<int, std::pair<std::vector<cv::Rect>, std::vector<float>>> by_class;
    for (int r = 0; r < rows.rows; ++r) {
      const float* row = rows.ptr<float>(r);
      // SSD pads its output with rows whose image id is -1.
      if (row[0] < 0 || row[2] < confidence_) continue;
      const cv::Point p1(static_cast<int>(std::lround(left + row[3] * region_w)),
                         static_cast<int>(std::lround(top + row[4] * region_h)));
      const cv::Point p2(static_cast<int>(std::lround(left + row[5] * region_w)),
                         static_cast<int>(std::lround(top + row[6] * region_h)));
      const cv::Rect box = cv::Rect(p1, p2) & bounds;
      if (box.empty()) continue;
      auto& [boxes, scores] = by_class[static_cast<int>(row[1])];
      boxes.push_back(box);
      scores.push_back(row[2]);
    }
    // Per class, as SSD's own post-processing does: a person box never hides a dog box.
    std::vector<Detection> found;
    for (const auto& [id, candidates] : by_class) {
      const auto& [boxes, scores] = candidates;
      std::vector<int> keep(boxes.size());
      std::iota(keep.begin(), keep.end(), 0);
      if (nms_ > 0) cv::dnn::NMSBoxes(boxes, scores, confidence_, nms_, keep);
      for (const int i : keep) found.push_back({boxes[i], scores[i], label(id), name_});
    }
    add_best_first(std::move(found), frame);
  }

  static std::string shape_text(const cv::Mat& m) {
    std::string text;
    for (int i = 0; i < m.dims; ++i) text += (i ? "x" : "") + std::to_string(m.size[i]);
    return text;
  }

  std::string name_;
  Params params_;
  bool detect_;
  cv::Size size_;
  double scale_;
  cv::Scalar mean_;
  bool swap_rb_;
  bool crop_;
  std::string output_;
  int top_k_;
  float confidence_;
  float nms_;
  std::vector<std::string> labels_;
  InstancePool<cv::dnn::Net> pool_;
};

std::vector<std::string> check_params(const Params& params) {
  std::vector<std::string> problems;
  std::error_code ignored;
  const auto& model = params[Dnn::model];
  bool files_ok = true;
  if (model.empty()) {
    problems.push_back(
        "'model' is required: a network file (.onnx, .caffemodel, .pb, .weights, "
        ".t7)");
    files_ok = false;
  } else if (!fs::is_regular_file(model, ignored)) {
    problems.push_back("'model': no file '" + model + "'");
    files_ok = false;
  }
  for (const auto* file : {&Dnn::config, &Dnn::labels}) {
    const auto& path = params[*file];
    if (!path.empty() && !fs::is_regular_file(path, ignored)) {
      problems.push_back("'" + file->name() + "': no file '" + path + "'");
      files_ok = false;
    }
  }
  if (!parse_mean(params[Dnn::mean])) {
    problems.push_back("'mean' must be one to four comma-separated numbers, got '" +
                       params[Dnn::mean] + "'");
  }
  const auto backend = kBackends.at(params[Dnn::backend]);
  const auto target = kTargets.at(params[Dnn::target]);
  if (backend != cv::dnn::DNN_BACKEND_DEFAULT) {
    const auto available = cv::dnn::getAvailableBackends();
    if (std::find(available.begin(), available.end(), std::make_pair(backend, target)) ==
        available.end()) {
      problems.push_back("this OpenCV cannot run backend '" + params[Dnn::backend] +
                         "' on target '" + params[Dnn::target] + "'");
    }
  }
  // Reading the network is the only way to know the file is one; a broken model is a config
  // error like a missing one, reported before anything runs.
  if (files_ok) {
    try {
      Dnn::load_net(params);
    } catch (const cv::Exception& e) {
      problems.push_back("'model': cannot read '" + model + "': " + e.err);
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  }
  return problems;
}

}  // namespace

StageInfo dnn_stage() {
  return stage_info<Dnn>(
      {.type = "dnn",
       .summary =
           "Runs a network with cv::dnn (ONNX, Caffe, TensorFlow, Darknet, Torch). classify: the "
           "top_k classes become detections whose box is the whole frame, score = the network's "
           "output (add a softmax to the model for probabilities); detect: an SSD-style "
           "[1,1,N,7] output becomes one detection per box.",
       .example =
           "- { name: objects, type: dnn, params: { model: ssd.onnx, mode: detect, width: 300, "
           "height: 300, labels: classes.txt } }",
       .params = {Dnn::model, Dnn::config, Dnn::mode, Dnn::width, Dnn::height, Dnn::scale,
                  Dnn::mean, Dnn::swap_rb, Dnn::crop, Dnn::output, Dnn::top_k, Dnn::labels,
                  Dnn::confidence, Dnn::nms, Dnn::backend, Dnn::target},
       .check = check_params});
}

}  // namespace framepipe::stages
