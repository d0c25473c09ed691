// The results file of `dsinfer batch`: JSON lines, appended one whole record at a time and
// flushed to disk, so a killed run loses at most the records in flight and never leaves a torn
// or duplicated line. Opening it again finds the ids already done (a torn last line, from a
// kill in the middle of a write, is cut off first).
#pragma once
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace dsinfer::cli {

class ResultsJournal {
 public:
  explicit ResultsJournal(const std::string& path);  // throws Error naming the file
  ~ResultsJournal();
  ResultsJournal(const ResultsJournal&) = delete;
  ResultsJournal& operator=(const ResultsJournal&) = delete;

  // Keys (id_key) of records already in the file.
  const std::unordered_set<std::string>& done() const { return done_; }
  // Appends one record (an object with "id") as one line, then fdatasync.
  void append(const nlohmann::json& record);

 private:
  std::string path_;
  int fd_ = -1;
  std::unordered_set<std::string> done_;
};

// The key a record is known by: its id's compact JSON text ("7" and "\"7\"" differ), or for an
// input line without a usable id, "line:N".
std::string id_key(const nlohmann::json& record);

}  // namespace dsinfer::cli
