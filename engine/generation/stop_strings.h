// Stop strings matched across token boundaries: generated text goes in piece by piece, and only
// what can no longer be the start of a stop string comes out. Once a stop string is complete,
// the text before it is returned and everything from it on is dropped.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops = {});
  // Appends text; returns what is safe to show now. Sets stopped() when a stop string matched.
  std::string push(std::string_view text);
  // At the end of generation: whatever was held back (empty after a stop).
  std::string flush();
  bool stopped() const { return stopped_; }
  void reset();

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace dsinfer
