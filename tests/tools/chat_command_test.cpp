// chat's /commands apart from the terminal: parsing, /set's checks, /load's conversations.
#include <gtest/gtest.h>

#include "simd/error.h"
#include "tools/chat/chat_command.h"

namespace dsinfer::cli {
namespace {

using K = ChatCommand::Kind;

TEST(ChatCommand, Parses) {
  EXPECT_FALSE(parse_chat_command("hello /set"));
  EXPECT_FALSE(parse_chat_command(""));
  const auto s = parse_chat_command("/set  temp 0.5");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, K::Set);
  EXPECT_EQ(s->rest, "temp 0.5");
  EXPECT_EQ(parse_chat_command("/exit")->kind, K::Quit);
  EXPECT_EQ(parse_chat_command("/system")->rest, "");
  EXPECT_EQ(parse_chat_command("/bogus x")->kind, K::Unknown);
  EXPECT_EQ(parse_chat_command("/bogus x")->name, "/bogus");
}

TEST(ChatCommand, SetChecksEveryValueAndChangesNothingOnError) {
  SamplingParams p;
  int64_t max_tokens = 100;
  EXPECT_EQ(apply_set("temp 0.25", p, max_tokens, 1024), "temp = 0.25");
  EXPECT_EQ(p.temperature, 0.25f);
  apply_set("seed 18446744073709551615", p, max_tokens, 1024);
  EXPECT_EQ(p.seed, 18446744073709551615ull);
  apply_set("max_tokens 512", p, max_tokens, 1024);
  EXPECT_EQ(max_tokens, 512);
  const SamplingParams before = p;
  for (const char* bad : {"temp -1", "temp abc", "temp nan", "top_k 2.5", "top_k 1e19", "seed -1", "max_tokens 1e19",
                          "max_tokens 0", "max_tokens 2000", "top_p 0", "bogus 1", "temp", "temp 1 2"}) {
    try {
      apply_set(bad, p, max_tokens, 1024);
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("/set", 0), 0u) << e.what();
    }
  }
  EXPECT_EQ(p.temperature, before.temperature);
  EXPECT_EQ(max_tokens, 512);
}

TEST(ChatCommand, ConversationsRoundTripAndBadOnesAreRefused) {
  const std::vector<ChatMessage> m = {{"system", "be brief"}, {"user", "hi"}, {"assistant", "hello"}};
  const auto back = conversation_from_json(conversation_to_json(m), "c.json");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2].content, "hello");
  for (const char* bad : {"[]", "{\"messages\": 3}", "{\"messages\": [{\"role\": \"x\", \"content\": \"y\"}]}",
                          "{\"messages\": [{\"role\": \"user\"}]}"})
    EXPECT_THROW(conversation_from_json(nlohmann::json::parse(bad), "c.json"), Error) << bad;
}

}  // namespace
}  // namespace dsinfer::cli
