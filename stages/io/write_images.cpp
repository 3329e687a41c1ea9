// write_images: saves every Nth frame of a video as an image, and an image input as an image of
// its own name.
//   - { name: stills, type: write_images, params: { every: 25, path: "{stem}/{frame:06}.jpg" } }
#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>

#include "pipeline/inputs.h"
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

// A frame's image encoded by prepare(), and the name it goes under.
struct EncodedImage : PreparedFrame {
  fs::path path;
  std::vector<unsigned char> bytes;
};

class WriteImages : public SinkStage {
 public:
  static inline const Param<std::string> path{
      "path", "{stem}-frames/{frame:06}.png",
      "image file under output.dir: {stem} is the input's name without "
      "extension, {frame} the frame index, {frame:06} zero-padded to 6 "
      "digits; .png, .jpg/.jpeg, .bmp, .tif/.tiff or .webp"};
  static inline const Param<std::string> image_path{
      "image_path", "{stem}.{ext}",
      "for an image input (a .jpg, .png, .bmp, .tif or .webp file): its image under output.dir, "
      "in the input's subfolder; {ext} keeps its format; a fixed extension (\"{stem}.jpg\") "
      "converts it"};
  static inline const auto every =
      Param<int>{"every", 1, "write frames whose index is a multiple of this"}.range(1, 1000000);
  static inline const auto jpeg_quality =
      Param<int>{"jpeg_quality", 95, "JPEG and WebP quality"}.range(0, 100);
  static inline const auto png_compression =
      Param<int>{"png_compression", 3, "PNG zlib level: higher is smaller and slower"}.range(0, 9);

  explicit WriteImages(const Params& params) : params_(params), every_(params[every]) {}
  ~WriteImages() override { discard(); }

  void open(const RunContext& context) override {
    context_ = context;
    if (context.next_item) return;  // each frame's item names its image
    // An image (one frame, index 0) keeps its own name.
    const auto& pattern = params_[is_image_name(context.input_path) ? image_path : path];
    // {stem} and {ext} now; {frame} per image.
    resolved_ = output_file::resolve(context, pattern).string();
    format_ = format_of(resolved_);
    // A folder every image shares is made now, so that one that cannot be made fails the run
    // before its first frame, whichever IO thread would have reached it first.
    if (const auto folder = fs::path(resolved_).parent_path();
        find_frame_field(folder.string()).at == std::string::npos) {
      create_folder(folder);
    }
  }

  // Encoding is CPU work: the engine runs it on the oneTBB workers, many frames at once, so the
  // IO threads only write the encoded bytes.
  void prepare(Frame& frame) const override {
    if (!writes(frame)) return;
    auto encoded = std::make_shared<EncodedImage>();
    encoded->path = frame.item ? output_file::resolve(context_, *frame.item, params_[image_path])
                               : name_for(frame.index);
    const auto format = frame.item ? format_of(encoded->path) : format_;
    try {
      encoded->bytes = image_file::encode(
          frame.image(), format,
          params_[format == image_file::Format::png ? png_compression : jpeg_quality]);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot write '" + encoded->path.string() + "': " + e.what());
    }
    frame.prepared = std::move(encoded);
  }

  void consume(Frame& frame) override {
    if (!writes(frame)) return;
    // Called outside the engine (unit tests), a frame arrives unprepared.
    if (!frame.prepared) prepare(frame);
    const auto* encoded = frame.prepared_as<EncodedImage>();
    if (!encoded) throw std::logic_error("write_images got a frame prepared by another stage");
    if (frame.item) return write_item(*frame.item, *encoded);
    output_file::refuse_existing(encoded->path, context_);
    create_folder(encoded->path.parent_path());
    auto file = written_hidden(*encoded);
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
    remove_empty_created_folders();  // a run that wrote no image leaves no folder either
  }

  // Removes every image this run wrote, hidden or already renamed, so a failed run leaves none
  // of them.
  void abort() noexcept override { discard(); }

  std::vector<fs::path> outputs() const override {
    return committed_ ? written_ : std::vector<fs::path>{};
  }

 private:
  // An item's one image, or every Nth frame of a video.
  bool writes(const Frame& frame) const { return frame.item || frame.index % every_ == 0; }

  // An item of a run over many images: its one image, named by image_path after the item's
  // input, written whole under a hidden name and given to the item, which has it put in place
  // with others once the item is done (pipeline/group_commit.h), or removed if it fails.
  void write_item(Item& item, const EncodedImage& encoded) {
    output_file::refuse_existing(encoded.path, context_);
    {
      std::lock_guard lock(mutex_);  // two threads making one folder
      output_file::create_output_folder(encoded.path.parent_path());
    }
    auto file = written_hidden(encoded);
    file->close_unsynced();
    item.add_written(std::move(file));
  }

  // The format a name's extension says; one line naming the file when it says none.
  static image_file::Format format_of(const fs::path& path) {
    const auto format = image_file::format_of(path);
    if (!format) {
      throw std::runtime_error("cannot write '" + path.string() + "': the name must end in " +
                               image_file::extensions_text());
    }
    return *format;
  }

  // The encoded image, complete under a hidden name beside its path, for the caller to close
  // and commit.
  std::unique_ptr<AtomicFile> written_hidden(const EncodedImage& encoded) const {
    auto file = std::make_unique<AtomicFile>(encoded.path, output_file::replace_mode(context_));
    file->write({reinterpret_cast<const char*>(encoded.bytes.data()), encoded.bytes.size()});
    return file;
  }

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
    remove_empty_created_folders();
    written_.clear();
  }

  void remove_empty_created_folders() noexcept {
    std::error_code ignored;
    // Deepest first; fs::remove leaves a folder that still holds something.
    std::sort(created_folders_.begin(), created_folders_.end(),
              [](const auto& a, const auto& b) { return a.native().size() > b.native().size(); });
    for (const auto& folder : created_folders_) fs::remove(folder, ignored);
    created_folders_.clear();
  }

  Params params_;
  const std::int64_t every_;
  image_file::Format format_ = image_file::Format::png;  // by the name's extension
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
           "Saves every Nth frame as an image (PNG, JPEG, BMP, TIFF or WebP by the path's "
           "extension) under a hidden name, all renamed into place when the run completes; a "
           "failed run removes them and leaves the images of an earlier run as they were. An "
           "image input is written as one image named by image_path: by default its own name "
           "and format, in the output folder's copy of its subfolder; a batch's images run "
           "through one graph go in place in groups, each group synced to disk first.",
       .example =
           "- { name: stills, type: write_images, concurrency: 2, params: { every: 25, path: "
           "\"{stem}/{frame:06}.jpg\" } }",
       .params = {WriteImages::path, WriteImages::image_path, WriteImages::every,
                  WriteImages::jpeg_quality, WriteImages::png_compression},
       .prepares = true,
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
               problems.push_back("'path' must end in " + image_file::extensions_text() +
                                  ", got '" + path + "'");
             }
             const auto& image_path = params[WriteImages::image_path];
             if (!image_path.ends_with(".{ext}") && !image_file::format_of(image_path)) {
               problems.push_back("'image_path' must end in .{ext} or in " +
                                  image_file::extensions_text() + ", got '" + image_path + "'");
             }
             return problems;
           },
       .output_names = output_file::named_by(WriteImages::path),
       .image_output_names = output_file::named_by(WriteImages::image_path),
       .name_fields = {"frame"},
       .takes_items = true});
}

}  // namespace framepipe::stages
