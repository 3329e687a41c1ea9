// write_detections_db: writes the frames' detections as rows of a database table, SQLite
// (a file) by default or PostgreSQL (`url`), in batched transactions; a file processed again
// replaces its rows. The schema is in docs/network.md.
//   - { name: db, type: write_detections_db, input: people, params: { path: people.sqlite } }
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/stage.h"
#include "stages/io/detection_records.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

using detection_records::rounded;
using detection_records::seconds;

struct Row {
  std::int64_t frame = 0;
  std::int64_t pts = 0;
  double time_s = 0;
  std::string stage;
  std::string label;
  double score = 0;
  int x = 0, y = 0, w = 0, h = 0;
};

// The table, the same in both databases (SQLite reads the types by affinity).
std::string schema(const std::string& table) {
  return "CREATE TABLE IF NOT EXISTS " + table +
         " (file TEXT NOT NULL, frame BIGINT NOT NULL, pts BIGINT NOT NULL, time_s DOUBLE "
         "PRECISION NOT NULL, stage TEXT NOT NULL, label TEXT NOT NULL, score DOUBLE PRECISION NOT "
         "NULL, x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL); "
         "CREATE INDEX IF NOT EXISTS " +
         table + "_file ON " + table + " (file, frame);";
}

constexpr const char* kColumns = "(file, frame, pts, time_s, stage, label, score, x, y, w, h)";
constexpr int kColumnCount = 11;

// "postgresql://user:secret@host/db" → "postgresql://user:***@host/db", for messages.
std::string redacted(const std::string& url) {
  const auto start = url.find("://");
  const auto at = url.find('@');
  if (start == std::string::npos || at == std::string::npos) return url;
  const auto colon = url.find(':', start + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

// A database message on one line.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

class Database {
 public:
  virtual ~Database() = default;
  // Rows of one transaction; may return before they are committed (at most max_in_flight
  // batches outstanding).
  virtual void write(const std::string& file, const std::vector<Row>& rows) = 0;
  // Waits until every batch is committed.
  virtual void flush() = 0;
  // After a failure: best effort, never throws.
  virtual void remove_rows(const std::string& file) noexcept = 0;
};

class Sqlite : public Database {
 public:
  Sqlite(const fs::path& path, const std::string& table, int timeout_ms) : path_(path) {
    output_file::create_output_folder(path.parent_path());
    sqlite3* db = nullptr;
    const int ret =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(db);
    if (ret != SQLITE_OK) fail("cannot open", ret);
    sqlite3_busy_timeout(db, timeout_ms);
    exec("BEGIN IMMEDIATE; " + schema(table) + " COMMIT;", "cannot create the table in");
    insert_ = prepare("INSERT INTO " + table + " " + kColumns +
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    delete_ = prepare("DELETE FROM " + table + " WHERE file = ?");
  }

  void replace_rows_of(const std::string& file) {
    sqlite3_reset(delete_.get());
    sqlite3_bind_text(delete_.get(), 1, file.c_str(), -1, SQLITE_TRANSIENT);
    const int ret = sqlite3_step(delete_.get());
    if (ret != SQLITE_DONE) fail("cannot delete the earlier rows from", ret);
  }

  void write(const std::string& file, const std::vector<Row>& rows) override {
    exec("BEGIN IMMEDIATE", "cannot start a transaction in");
    auto* insert = insert_.get();
    for (const auto& row : rows) {
      sqlite3_reset(insert);
      sqlite3_bind_text(insert, 1, file.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert, 2, row.frame);
      sqlite3_bind_int64(insert, 3, row.pts);
      sqlite3_bind_double(insert, 4, row.time_s);
      sqlite3_bind_text(insert, 5, row.stage.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 6, row.label.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_double(insert, 7, row.score);
      sqlite3_bind_int(insert, 8, row.x);
      sqlite3_bind_int(insert, 9, row.y);
      sqlite3_bind_int(insert, 10, row.w);
      sqlite3_bind_int(insert, 11, row.h);
      const int ret = sqlite3_step(insert);
      if (ret != SQLITE_DONE) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        fail("cannot insert into", ret);
      }
    }
    exec("COMMIT", "cannot commit to");
  }

  void flush() override {}

  void remove_rows(const std::string& file) noexcept override {
    sqlite3_reset(delete_.get());
    sqlite3_bind_text(delete_.get(), 1, file.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(delete_.get());
  }

 private:
  struct DbDeleter {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

  [[noreturn]] void fail(const std::string& what, int code) const {
    const std::string detail = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(code);
    throw std::runtime_error(what + " SQLite database '" + path_.string() + "': " + detail);
  }

  void exec(const std::string& sql, const std::string& what) {
    char* error = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string detail = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error(what + " SQLite database '" + path_.string() + "': " + detail);
    }
  }

  Statement prepare(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    const int ret = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &statement, nullptr);
    if (ret != SQLITE_OK) fail("cannot prepare a statement for", ret);
    return Statement(statement);
  }

  fs::path path_;
  std::unique_ptr<sqlite3, DbDeleter> db_;  // declared before the statements: closed last
  Statement insert_;
  Statement delete_;
};

// PostgreSQL through libpq's pipeline mode: each batch is one INSERT and a sync point (its own
// transaction), sent without waiting for the answer; at most max_in_flight are unanswered.
class Postgres : public Database {
 public:
  Postgres(const std::string& url, const std::string& table, int timeout_ms, int max_in_flight)
      : where_(redacted(url)), table_(table), max_in_flight_(max_in_flight) {
    const auto connect_timeout = std::to_string(std::max(2, (timeout_ms + 999) / 1000));
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {url.c_str(), connect_timeout.c_str(), "framepipe", nullptr};
    conn_.reset(PQconnectdbParams(keys, values, 1));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error("cannot connect to " + where_ + ": " +
                               (conn_ ? one_line(PQerrorMessage(conn_.get())) : "out of memory"));
    }
    // Two files starting at once must not both create the table: an advisory lock serialises
    // them.
    exec("BEGIN; SELECT pg_advisory_xact_lock(7046112); " + schema(table) + " COMMIT;",
         "cannot create the table in");
  }

  void replace_rows_of(const std::string& file) {
    const char* values[] = {file.c_str()};
    Result result(PQexecParams(conn_.get(), ("DELETE FROM " + table_ + " WHERE file = $1").c_str(),
                               1, nullptr, values, nullptr, nullptr, 0));
    check(result.get(), PGRES_COMMAND_OK, "cannot delete the earlier rows from");
    if (PQenterPipelineMode(conn_.get()) != 1) fail("cannot enter pipeline mode on");
  }

  void write(const std::string& file, const std::vector<Row>& rows) override {
    while (in_flight_ >= max_in_flight_) wait_for_one();
    std::string sql = "INSERT INTO " + table_ + " " + kColumns + " VALUES ";
    std::vector<std::string> text;
    text.reserve(rows.size() * kColumnCount);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      sql += i ? ",(" : "(";
      for (int c = 1; c <= kColumnCount; ++c) {
        sql += (c > 1 ? ",$" : "$") + std::to_string(i * kColumnCount + c);
      }
      sql += ")";
      for (auto value :
           {file, std::to_string(row.frame), std::to_string(row.pts), number(row.time_s), row.stage,
            row.label, number(row.score), std::to_string(row.x), std::to_string(row.y),
            std::to_string(row.w), std::to_string(row.h)}) {
        text.push_back(std::move(value));
      }
    }
    std::vector<const char*> values;
    for (const auto& value : text) values.push_back(value.c_str());
    if (PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) != 1 ||
        PQpipelineSync(conn_.get()) != 1) {
      fail("cannot send rows to");
    }
    ++in_flight_;
  }

  void flush() override {
    while (in_flight_ > 0) wait_for_one();
  }

  void remove_rows(const std::string& file) noexcept override {
    if (PQstatus(conn_.get()) != CONNECTION_OK) return;
    try {
      flush();
    } catch (const std::exception&) {
      // The batch that failed is rolled back by the server; what follows is the cleanup.
    }
    while (PGresult* left = PQgetResult(conn_.get())) PQclear(left);
    if (PQexitPipelineMode(conn_.get()) != 1) return;
    const char* values[] = {file.c_str()};
    PQclear(PQexecParams(conn_.get(), ("DELETE FROM " + table_ + " WHERE file = $1").c_str(), 1,
                         nullptr, values, nullptr, nullptr, 0));
  }

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  using Result = std::unique_ptr<PGresult, ResultDeleter>;

  static std::string number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(what + " " + where_ + ": " + one_line(PQerrorMessage(conn_.get())));
  }

  void check(PGresult* result, ExecStatusType wanted, const std::string& what) const {
    if (PQresultStatus(result) != wanted) {
      throw std::runtime_error(
          what + " " + where_ + ": " +
          one_line(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get())));
    }
  }

  void exec(const std::string& sql, const std::string& what) {
    Result result(PQexec(conn_.get(), sql.c_str()));
    check(result.get(), PGRES_COMMAND_OK, what);
  }

  // Reads the answers of the oldest batch, up to its sync point (blocking, off-CPU, while the
  // server works); throws when its INSERT failed.
  void wait_for_one() {
    std::string error;
    for (;;) {
      Result result(PQgetResult(conn_.get()));
      if (!result) {
        if (PQstatus(conn_.get()) != CONNECTION_OK) fail("lost the connection to");
        continue;
      }
      const auto status = PQresultStatus(result.get());
      if (status == PGRES_PIPELINE_SYNC) break;
      if (status == PGRES_FATAL_ERROR && error.empty())
        error = one_line(PQresultErrorMessage(result.get()));
    }
    --in_flight_;
    if (!error.empty()) throw std::runtime_error("cannot insert into " + where_ + ": " + error);
  }

  std::string where_;
  std::string table_;
  int max_in_flight_;
  int in_flight_ = 0;
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

class WriteDetectionsDb : public SinkStage {
 public:
  static inline const Param<std::string> path{
      "path", "detections.sqlite",
      "SQLite database file, under output.dir unless absolute; shared by "
      "every file of a batch"};
  static inline const Param<std::string> url{
      "url", "",
      "a PostgreSQL connection URL (postgresql://user@host:port/db); when "
      "set, used instead of `path`"};
  static inline const Param<std::string> table{"table", "detections",
                                               "table name (letters, digits, _)"};
  static inline const Param<std::string> from{
      "from", "", "write only the detections of this stage; empty = all"};
  static inline const auto batch_size =
      Param<int>{"batch_size", 200, "rows per transaction"}.range(1, 5000);
  static inline const auto max_in_flight =
      Param<int>{"max_in_flight", 4,
                 "PostgreSQL: batches sent before the first is answered (pipeline "
                 "mode); SQLite writes each batch at once"}
          .range(1, 256)
          .in_flight();
  static inline const auto timeout_ms =
      Param<int>{"timeout_ms", 10000,
                 "how long to wait to connect (PostgreSQL) or for a locked "
                 "database (SQLite)"}
          .range(1, 3600000);

  explicit WriteDetectionsDb(const Params& params)
      : path_(params[path]),
        url_(params[url]),
        table_(params[table]),
        from_(params[from]),
        batch_size_(static_cast<std::size_t>(params[batch_size])),
        max_in_flight_(params[max_in_flight]),
        timeout_ms_(params[timeout_ms]) {}

  void open(const RunContext& context) override {
    file_ = context.input_path;
    if (url_.empty()) {
      const fs::path path(path_);
      auto sqlite = std::make_unique<Sqlite>(path.is_absolute() ? path : context.output_dir / path,
                                             table_, timeout_ms_);
      sqlite->replace_rows_of(file_);
      db_ = std::move(sqlite);
    } else {
      auto postgres = std::make_unique<Postgres>(url_, table_, timeout_ms_, max_in_flight_);
      postgres->replace_rows_of(file_);
      db_ = std::move(postgres);
    }
  }

  void consume(Frame& frame) override {
    for (const auto& detection : frame.detections) {
      if (!from_.empty() && detection.stage != from_) continue;
      pending_.push_back({frame.index, frame.pts, rounded(seconds(frame)), detection.stage,
                          detection.label, rounded(detection.score), detection.box.x,
                          detection.box.y, detection.box.width, detection.box.height});
      if (pending_.size() >= batch_size_) send();
    }
  }

  void finish() override {
    if (!pending_.empty()) send();
    db_->flush();
    db_.reset();
  }

  // A failed file leaves no rows behind (a re-run would replace them anyway).
  void abort() noexcept override {
    if (db_) db_->remove_rows(file_);
    db_.reset();
  }

  std::map<std::string, double> counters() const override {
    return {{"rows", static_cast<double>(rows_)}, {"batches", static_cast<double>(batches_)}};
  }

 private:
  void send() {
    db_->write(file_, pending_);
    rows_ += static_cast<std::int64_t>(pending_.size());
    ++batches_;
    pending_.clear();
  }

  std::string path_;
  std::string url_;
  std::string table_;
  std::string from_;
  std::size_t batch_size_;
  int max_in_flight_;
  int timeout_ms_;
  std::string file_;
  std::unique_ptr<Database> db_;
  std::vector<Row> pending_;
  std::int64_t rows_ = 0;
  std::int64_t batches_ = 0;
};

bool is_identifier(const std::string& name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

}  // namespace

StageInfo write_detections_db_stage() {
  return stage_info<WriteDetectionsDb>(
      {.type = "write_detections_db",
       .resource = ResourceClass::io,
       .ordering = Ordering::serial_in_order,
       .summary = "Writes detections as rows (file, frame, pts, time_s, stage, label, score, x, y, "
                  "w, h) into SQLite or PostgreSQL, in batched transactions; a file processed "
                  "again replaces its rows, a failed one leaves none. Creates the table when "
                  "missing (docs/network.md).",
       .example = "- { name: db, type: write_detections_db, input: people, params: { path: "
                  "people.sqlite } }",
       .params = {WriteDetectionsDb::path, WriteDetectionsDb::url, WriteDetectionsDb::table,
                  WriteDetectionsDb::from, WriteDetectionsDb::batch_size,
                  WriteDetectionsDb::max_in_flight, WriteDetectionsDb::timeout_ms},
       .check = [](const Params& params) {
         std::vector<std::string> problems;
         const auto& url = params[WriteDetectionsDb::url];
         if (!url.empty() && !url.starts_with("postgresql://") && !url.starts_with("postgres://"))
           problems.push_back("'url' must start with postgresql:// or postgres://, got '" +
                              redacted(url) + "'");
         if (url.empty() && params[WriteDetectionsDb::path].empty())
           problems.push_back("'path' must name a SQLite file when 'url' is empty");
         if (const auto path = fs::path(params[WriteDetectionsDb::path]).lexically_normal();
             path.is_relative() && !path.empty() && *path.begin() == "..")
           problems.push_back("'path' '" + params[WriteDetectionsDb::path] +
                              "' climbs out of output.dir with '..'; a relative path stays "
                              "under output.dir (an absolute one names any place)");
         if (!is_identifier(params[WriteDetectionsDb::table]))
           problems.push_back(
               "'table' must be letters, digits and _, not starting with a digit, "
               "got '" +
               params[WriteDetectionsDb::table] + "'");
         return problems;
       }});
}

}  // namespace framepipe::stages
