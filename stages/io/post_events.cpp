// post_events: POSTs the frames' results as JSON events to an HTTP endpoint, many requests in
// flight at once on the stage's one IO thread (libcurl's multi interface).
//   - { name: events, type: post_events, input: people,
//       params: { url: "http://127.0.0.1:8080/events", max_in_flight: 16 } }
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/json_text.h"
#include "pipeline/stage.h"
#include "stages/io/detection_records.h"

namespace framepipe::stages {

namespace {

using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr auto kCancelCheck = std::chrono::milliseconds(100);

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("cannot initialise libcurl");
  });
}

size_t keep_start(char* data, size_t size, size_t count, void* user) {
  auto& text = *static_cast<std::string*>(user);
  if (text.size() < 200) text.append(data, std::min<size_t>(size * count, 200 - text.size()));
  return size * count;
}

// Header values are printable ASCII: anything else in a file name is percent-encoded.
std::string header_safe(const std::string& text) {
  std::string safe;
  for (const unsigned char c : text) {
    if (c > 0x20 && c < 0x7f && c != '%') {
      safe += static_cast<char>(c);
    } else {
      char code[4];
      std::snprintf(code, sizeof code, "%%%02X", c);
      safe += code;
    }
  }
  return safe;
}

// One POST of a batch of events, retried until it succeeds or its budget is spent.
struct Request {
  std::string body;
  int attempts = 0;
  Clock::time_point due{};  // when a retry may start
  std::string response;
  struct EasyDeleter {
    void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
  };
  std::unique_ptr<CURL, EasyDeleter> easy;
  struct ListDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };
  std::unique_ptr<curl_slist, ListDeleter> headers;
};

class PostEvents : public SinkStage {
 public:
  static inline const Param<std::string> url{"url", "", "the endpoint, http:// or https://"};
  static inline const auto per = Param<std::string>::choice(
      "per", {"frame", "detection"}, "frame",
      "frame: one event per frame (file, frame, pts, time_s, detections "
      "[...], scalars {...}); detection: one per detection (file, frame, "
      "pts, time_s, stage, label, score, box {x,y,w,h}, scalars)");
  static inline const Param<std::string> from{
      "from", "", "send only the detections of this stage; empty = all"};
  static inline const auto batch_size =
      Param<int>{"batch_size", 16, "events per request"}.range(1, 100000);
  static inline const auto max_in_flight =
      Param<int>{"max_in_flight", 4,
                 "requests outstanding at once (more overlap a slow endpoint's "
                 "latency); a frame waits only when this many are out"}
          .range(1, 1024)
          .in_flight();
  static inline const auto retries =
      Param<int>{"retries", 3,
                 "retries of a request that timed out, failed to connect or got a "
                 "5xx, 408 or 429 answer, after 0.1 s, 0.2 s, 0.4 s, …; then the "
                 "file fails"}
          .range(0, 20);
  static inline const auto timeout_ms =
      Param<int>{"timeout_ms", 10000, "how long one attempt may take"}.range(1, 3600000);

  explicit PostEvents(const Params& params)
      : url_(params[url]),
        per_frame_(params[per] == "frame"),
        from_(params[from]),
        batch_size_(static_cast<std::size_t>(params[batch_size])),
        max_in_flight_(static_cast<std::size_t>(params[max_in_flight])),
        retries_(params[retries]),
        timeout_ms_(params[timeout_ms]) {}
  ~PostEvents() override { abort(); }

  void open(const RunContext& context) override {
    init_curl();
    input_ = context.input_path;
    cancel_ = context.cancel;
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("cannot create a libcurl multi handle");
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(max_in_flight_));
  }

  void consume(Frame& frame) override {
    for (auto& event : detection_records::records(frame, input_, per_frame_, from_)) {
      add(std::move(event));
    }
    drive(false);
  }

  void finish() override {
    if (!pending_.empty()) send_batch();
    while (!requests_.empty()) drive(true);
  }

  void abort() noexcept override {
    for (auto& request : requests_) {
      if (multi_ && request->easy) curl_multi_remove_handle(multi_, request->easy.get());
    }
    requests_.clear();
    if (multi_) curl_multi_cleanup(multi_);
    multi_ = nullptr;
  }

  std::map<std::string, double> counters() const override {
    return {{"events", static_cast<double>(events_)},
            {"requests", static_cast<double>(posted_)},
            {"retries", static_cast<double>(retried_)}};
  }

 private:
  void add(ordered_json event) {
    pending_.push_back(std::move(event));
    ++events_;
    if (pending_.size() >= batch_size_) send_batch();
  }

  // Starts a POST of the pending events; waits first while max_in_flight requests are out.
  void send_batch() {
    while (requests_.size() >= max_in_flight_) drive(true);
    auto request = std::make_unique<Request>();
    request->body = dump_json(pending_);
    pending_ = ordered_json::array();
    // The same key on every attempt of this batch, so a server can drop a repeat whose first
    // answer was lost to a timeout.
    const auto key = "Idempotency-Key: " + header_safe(input_) + "#" + std::to_string(batches_++);
    // "Expect:" (empty) stops curl from waiting for a 100 Continue before larger bodies.
    for (const auto* header : {"Content-Type: application/json", "Expect:", key.c_str()}) {
      auto* list = curl_slist_append(request->headers.get(), header);
      if (!list) throw std::bad_alloc();
      (void)request->headers.release();
      request->headers.reset(list);
    }
    start(*request);
    requests_.push_back(std::move(request));
  }

  void start(Request& request) {
    request.easy.reset(curl_easy_init());
    if (!request.easy) throw std::runtime_error("cannot create a libcurl handle");
    request.response.clear();
    CURL* easy = request.easy.get();
    curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request.headers.get());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_start);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &request.response);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &request);
    ++request.attempts;
    ++posted_;
    if (curl_multi_add_handle(multi_, easy) != CURLM_OK)
      throw std::runtime_error("cannot start a request to " + url_);
  }

  // Moves the transfers on; with `wait`, first waits (off-CPU, in poll) until one of them has
  // something to do or a retry falls due.
  void drive(bool wait) {
    // Every wait below is at most kCancelCheck: a cancelled run stops waiting for its transfers
    // (which abort() drops) instead of waiting out their timeouts and retries.
    if (cancel_ && cancel_->load()) throw std::runtime_error("cancelled while posting events");
    const auto now = Clock::now();
    auto next_due = now + kCancelCheck;
    for (auto& request : requests_) {
      if (request->easy) continue;
      if (request->due <= now) {
        start(*request);
      } else {
        next_due = std::min(next_due, request->due);
      }
    }
    int running = 0;
    curl_multi_perform(multi_, &running);
    if (wait && !collect()) {
      const auto timeout =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now).count();
      curl_multi_poll(multi_, nullptr, 0, static_cast<int>(std::max<long long>(1, timeout)),
                      nullptr);
      curl_multi_perform(multi_, &running);
    }
    collect();
  }

  // Handles finished transfers: done, retried with backoff, or the file fails. Returns whether
  // any finished.
  bool collect() {
    bool any = false;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      any = true;
      Request* request = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &request);
      long status = 0;
      curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      const CURLcode result = message->data.result;
      curl_multi_remove_handle(multi_, message->easy_handle);
      request->easy.reset();
      if (result == CURLE_OK && status >= 200 && status < 300) {
        std::erase_if(requests_, [&](const auto& r) { return r.get() == request; });
        continue;
      }
      const bool transient = result != CURLE_OK || status >= 500 || status == 408 || status == 429;
      const std::string cause =
          result != CURLE_OK ? curl_easy_strerror(result)
                             : "HTTP " + std::to_string(status) +
                                   (request->response.empty() ? "" : ": " + first_line(*request));
      if (!transient || request->attempts > retries_) {
        throw std::runtime_error("POST " + url_ + " failed after " +
                                 std::to_string(request->attempts) + " attempt" +
                                 (request->attempts == 1 ? "" : "s") + ": " + cause);
      }
      ++retried_;
      request->due =
          Clock::now() + std::chrono::milliseconds(100) * (1 << std::min(request->attempts - 1, 6));
    }
    return any;
  }

  static std::string first_line(const Request& request) {
    return request.response.substr(0, request.response.find_first_of("\r\n"));
  }

  std::string url_;
  bool per_frame_;
  std::string from_;
  std::size_t batch_size_;
  std::size_t max_in_flight_;
  int retries_;
  std::int64_t timeout_ms_;
  std::string input_;
  const std::atomic<bool>* cancel_ = nullptr;
  CURLM* multi_ = nullptr;
  ordered_json pending_ = ordered_json::array();
  std::deque<std::unique_ptr<Request>> requests_;  // in flight or waiting to retry
  std::int64_t batches_ = 0;
  std::int64_t events_ = 0;
  std::int64_t posted_ = 0;
  std::int64_t retried_ = 0;
};

}  // namespace

StageInfo post_events_stage() {
  return stage_info<PostEvents>(
      {.type = "post_events",
       .resource = ResourceClass::io,
       .ordering = Ordering::serial_in_order,
       .summary = "POSTs detections and per-frame scalars as JSON events (a JSON array per "
                  "request) to an HTTP endpoint, up to `max_in_flight` requests at once on one "
                  "thread; retries 5xx answers and timeouts with backoff.",
       .example = "- { name: events, type: post_events, input: people, params: { url: "
                  "\"http://127.0.0.1:8080/events\", max_in_flight: 16 } }",
       .params = {PostEvents::url, PostEvents::per, PostEvents::from, PostEvents::batch_size,
                  PostEvents::max_in_flight, PostEvents::retries, PostEvents::timeout_ms},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         const auto& url = params[PostEvents::url];
         if (!url.starts_with("http://") && !url.starts_with("https://"))
           problems.push_back("'url' must start with http:// or https://, got '" + url + "'");
         return problems;
       }});
}

}  // namespace framepipe::stages
