// write_images: saves every Nth frame as a PNG or JPEG image.
//   - { name: stills, type: write_images, params: { every: 25, path: "{stem}/{frame:06}.jpg" } }
#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>

#include "pipeline/stage.h"
#include "stages/io/image_file.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

// Where the next {frame} or {frame:0N} (zero-padded to N digits, 1-9) field of a name template
// is, at or after `from`; `at` is npos when there is none.
struct FrameField {
  std::size_t at = std::string::npos;
  std::size_t length = 0;
  int digits = 1;
};

FrameField find_frame_field(const std::string& text, std::size_t from = 0) {
  for (auto at = text.find("{frame", from); at != std::string::npos;
       at = text.find("{frame", at + 1)) {
    const auto rest = text.substr(at + 6, 4);
    if (rest.starts_with("}")) return {at, 7, 1};
    if (rest.size() == 4 && rest[0] == ':' && rest[1] == '0' && rest[2] >= '1' && rest[2] <= '9' &&
        rest[3] == '}') {
      return {at, 10, rest[2] - '0'};
    }
  }
  return {};
}

class WriteImages : public SinkStage {
 public:
  static inline const Param<std::string> path{
      "path", "{stem}-frames/{frame:06}.png",
      "image file under output.dir: {stem} is the input's name without "
      "extension, {frame} the frame index, {frame:06} zero-padded to 6 "
      "digits; .png or .jpg/.jpeg"};
  static inline const auto every =
      Param<int>{"every", 1, "write frames whose index is a multiple of this"}.range(1, 1000000);
  static inline const auto jpeg_quality =
      Param<int>{"jpeg_quality", 95, "JPEG quality"}.range(0, 100);
  static inline const auto png_compression =
      Param<int>{"png_compression", 3, "PNG zlib level: higher is smaller and slower"}.range(0, 9);

  explicit WriteImages(const Params& params)
      : pattern_(params[path]),
        every_(params[every]),
        format_(image_file::format_of(pattern_).value()),
        setting_(params[format_ == image_file::Format::png ? png_compression : jpeg_quality]) {}
  ~WriteImages() override { discard(); }

  void open(const RunContext& context) override {
    context_ = context;
    // {stem} now; {frame} per image.
    resolved_ = output_file::resolve(context, pattern_).string();
  }

  // Runs on several IO threads at once when the stage has concurrency > 1: encoding a PNG
  // takes longer than writing it.
  void consume(Frame& frame) override {
    if (frame.index % every_ != 0) return;
    const fs::path path = name_for(frame.index);
    output_file::refuse_existing(path, context_);
    create_folder(path.parent_path());
    std::vector<unsigned char> bytes;
    try {
      bytes = image_file::encode(frame.image(), format_, setting_);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot write '" + path.string() + "': " + e.what());
    }
    auto file = std::make_unique<AtomicFile>(path, output_file::replace_mode(context_));
    file->write({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    file->close();
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(file));
  }

  // The images move to their final names only now, all together: a run that fails before this
  // leaves the images of an earlier run (output.overwrite: true) as they were.
  void finish() override {
    std::sort(pending_.begin(), pending_.end(),
              [](const auto& a, const auto& b) { return a->final_path() < b->final_path(); });
    for (const auto& image : pending_) {
      image->commit();
      written_.push_back(image->final_path());
    }
    pending_.clear();
    committed_ = true;
  }

  // Removes every image this run wrote, hidden or already renamed, so a failed run leaves none
  // of them.
  void abort() noexcept override { discard(); }

  std::vector<fs::path> outputs() const override {
    return committed_ ? written_ : std::vector<fs::path>{};
  }

 private:
  fs::path name_for(std::int64_t index) const {
    std::string name;
    std::size_t done = 0;
    for (auto field = find_frame_field(resolved_); field.at != std::string::npos;
         field = find_frame_field(resolved_, done)) {
      char digits[32];
      std::snprintf(digits, sizeof digits, "%0*lld", field.digits, static_cast<long long>(index));
      name += resolved_.substr(done, field.at - done) + digits;
      done = field.at + field.length;
    }
    return name + resolved_.substr(done);
  }

  // Remembers the folders it made, to remove them again on abort when they end up empty.
  void create_folder(const fs::path& folder) {
    if (folder.empty()) return;
    std::lock_guard lock(mutex_);
    std::vector<fs::path> made;
    for (auto f = folder; !f.empty() && !fs::exists(f); f = f.parent_path()) made.push_back(f);
    output_file::create_output_folder(folder);
    created_folders_.insert(created_folders_.end(), made.begin(), made.end());
  }

  void discard() noexcept {
    if (committed_) return;
    std::error_code ignored;
    for (const auto& path : written_) fs::remove(path, ignored);
    pending_.clear();  // removes the hidden files
    // Deepest first; fs::remove leaves a folder that still holds something.
    std::sort(created_folders_.begin(), created_folders_.end(),
              [](const auto& a, const auto& b) { return a.native().size() > b.native().size(); });
    for (const auto& folder : created_folders_) fs::remove(folder, ignored);
    written_.clear();
    created_folders_.clear();
  }

  std::string pattern_;
  std::int64_t every_;
  image_file::Format format_;
  int setting_;  // the PNG level or the JPEG quality
  RunContext context_;
  std::string resolved_;
  std::mutex mutex_;
  // Complete images under hidden names beside their final ones, written by consume() and
  // renamed in finish().
  std::vector<std::unique_ptr<AtomicFile>> pending_;
  std::vector<fs::path> written_;  // final names, renamed into place by finish()
  std::vector<fs::path> created_folders_;
  bool committed_ = false;
};

}  // namespace

StageInfo write_images_stage() {
  return stage_info<WriteImages>(
      {.type = "write_images",
       .resource = ResourceClass::io,
       .summary =
           "Saves every Nth frame as an image (PNG or JPEG by the path's extension) under a hidden "
           "name, all renamed into place when the run completes; a failed run removes them and "
           "leaves the images of an earlier run as they were.",
       .example =
           "- { name: stills, type: write_images, concurrency: 2, params: { every: 25, path: "
           "\"{stem}/{frame:06}.jpg\" } }",
       .params = {WriteImages::path, WriteImages::every, WriteImages::jpeg_quality,
                  WriteImages::png_compression},
       .check =
           [](const Params& params) {
             std::vector<std::string> problems;
             const auto& path = params[WriteImages::path];
             if (find_frame_field(path).at == std::string::npos) {
               problems.push_back(
                   "'path' must contain {frame} or {frame:0N} (N = 1..9), or every "
                   "image would get the same name");
             }
             // Any other {frame:...} would be written as it is in every image's name.
             for (auto at = path.find("{frame:"); at != std::string::npos;
                  at = path.find("{frame:", at + 1)) {
               if (find_frame_field(path, at).at != at) {
                 const auto close = path.find('}', at);
                 problems.push_back(
                     "'path' has the field '" +
                     path.substr(at, close == std::string::npos ? close : close + 1 - at) +
                     "': write {frame} or {frame:0N} (N = 1..9)");
               }
             }
             if (!image_file::format_of(path)) {
               problems.push_back("'path' must end in .png, .jpg or .jpeg, got '" + path + "'");
             }
             return problems;
           },
       .output_names = output_file::named_by(WriteImages::path),
       .name_fields = {"frame"}});
}

}  // namespace framepipe::stages
