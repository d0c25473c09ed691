#include "tests/engine/tokenizer/tokenizer_fixture.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/tokenizer/tokenizer_json.h"
#include "tests/test_support.h"

namespace dsinfer::test {

std::string deepseek_v3_dir() { return fixture("tokenizer-deepseek-v3"); }

const Tokenizer& deepseek_v3() {
  static const std::unique_ptr<Tokenizer> t = open_tokenizer(deepseek_v3_dir());
  return *t;
}

const std::vector<GoldenLine>& golden_lines() {
  static const std::vector<GoldenLine> lines = [] {
    std::vector<GoldenLine> out;
    std::istringstream in(read_file(deepseek_v3_dir() + "/golden.jsonl"));
    std::string l;
    int n = 0;
    while (std::getline(in, l)) {
      ++n;
      if (l.empty()) continue;
      const auto j = nlohmann::json::parse(l);
      GoldenLine g;
      g.line = n;
      g.text = j.at("text").get<std::string>();
      g.ids = j.at("ids").get<std::vector<int32_t>>();
      if (j.contains("chat_messages")) {
        for (const auto& m : j["chat_messages"])
          g.chat.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
        g.add_generation_prompt = j.value("add_generation_prompt", false);
      }
      out.push_back(std::move(g));
    }
    return out;
  }();
  return lines;
}

std::string printable(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\n')
      o += "\\n";
    else if (c == '\r')
      o += "\\r";
    else if (c == '\t')
      o += "\\t";
    else
      o += c;
  }
  return o.size() > 200 ? o.substr(0, 200) + "..." : o;
}

}  // namespace dsinfer::test
