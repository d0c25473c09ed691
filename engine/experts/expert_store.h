// Routed experts served from a RAM budget. A model's routed experts are most of its bytes and
// a token needs a few of them per layer, so they live in a pool of slots in huge-page memory,
// filled by large reads from the file when routing asks for them, kept by how much they are
// used (a count that halves with time), and repacked into the kernels' row groups as they land.
// Slots nobody asked for yet are filled in the background (the most used experts of a saved
// run first, then, when the budget holds most experts, file order), so when it holds every
// expert decode soon runs as from a full copy; start-up never waits for them.
//
// One thread (the decoder's) calls fetch/get/hint/release; reads run on the store's own I/O
// threads. Results do not depend on what was resident: a slot holds the file's bytes.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/experts/page_cache.h"
#include "quant/huge_buffer.h"
#include "engine/experts/routing_memory.h"
#include "engine/model/model_weights.h"

namespace dsinfer {

// Where one routed expert's three matrices are in the file.
struct ExpertSlices {
  uint64_t offset[3] = {}, bytes[3] = {};  // gate, up, down
};

// The routed experts of one MoE layer: their shapes and types (the views' templates) and where
// each one is.
struct LayerExperts {
  FfnWeights shape;  // data pointers unused
  std::vector<ExpertSlices> experts;
};

struct ExpertStoreOptions {
  uint64_t budget = 0;     // bytes for expert slots
  bool repack = true;      // into row groups where the kernels have them
  int io_threads = 4;      // concurrent reads
  std::string stats_path;  // per-expert use: loaded to warm the slots, saved on destruction
  bool predict = false;    // take hints of the next layer's experts (when not everything fits)
  bool keep_cache = false;  // read through the page cache (else bypass it where it is cold)
  // Remember each token's routing and read every layer's experts a forward's tokens went to
  // the last time as it starts (when not everything fits): the vocabulary and the experts a
  // token; 0: off.
  int64_t recall_vocab = 0, recall_top_k = 0;
};

struct ExpertStoreStats {
  int64_t requests = 0, hits = 0;          // experts asked for by routing; of them already there
  int64_t reads = 0;                       // experts read from the file
  uint64_t bytes_read = 0;
  uint64_t bytes_cached = 0;               // of them copied from the page cache, not the disk
  double read_seconds = 0;                 // reading, summed over the I/O threads
  double wait_seconds = 0;                 // the decoder waiting for reads (exposed I/O)
  int64_t hints = 0, hints_used = 0;       // predicted experts read; of them later asked for
  int64_t predictions = 0, predicted_right = 0;  // predicted experts; of them routed to
  int64_t recalled = 0, recalled_right = 0;      // experts recalled for a token; of them routed to again
};

class ExpertStore {
 public:
  // `layers`: indexed by model layer (the MTP module's last); empty entries for dense layers.
  ExpertStore(const std::string& path, std::vector<LayerExperts> layers, ExpertStoreOptions o);
  ~ExpertStore();
  ExpertStore(const ExpertStore&) = delete;
  ExpertStore& operator=(const ExpertStore&) = delete;

  // How many experts the budget holds at once, and how many the model has.
  int64_t slots() const { return int64_t(slots_.size()); }
  int64_t experts() const { return total_; }
  uint64_t slot_bytes() const { return slot_bytes_; }
  // Whether hints are worth making: asked for, and the budget does not hold every expert.
  bool predicting() const { return opt_.predict && slots() < total_; }

  // Routing asked for `ids` (distinct, at most slots()) of `layer`: those not resident start
  // reading now, and all of them stay until release(). `picks[e]`, when given, is how many
  // tokens chose expert e (its use counts that many times; else once).
  void fetch(int64_t layer, std::span<const int32_t> ids, std::span<const int32_t> picks = {});
  // Whether a fetched expert is ready to use, without waiting.
  bool ready(int64_t layer, int32_t e) const;
  // A fetched expert's weights, waiting for its read. Throws Error if the read failed.
  const FfnWeights& get(int64_t layer, int32_t e);
  // The experts fetched so far may be evicted again.
  void release();
  // Experts predicted for a coming layer: read where a slot is free or holds a less used
  // expert; never evicts what is fetched.
  void hint(int64_t layer, std::span<const int32_t> ids);
  // Routing of `layer` that a hint predicted: for the prediction's accuracy.
  void score_prediction(int64_t layer, std::span<const int32_t> predicted, std::span<const int32_t> routed);

  // Whether tokens' routing is remembered (asked for, and the budget does not hold every expert).
  bool recalling() const { return memory_ != nullptr; }
  // `layer` routed token i of `tokens` to ids[i * top_k, (i + 1) * top_k).
  void remember(int64_t layer, std::span<const int32_t> tokens, std::span<const int32_t> ids);
  // A forward of `tokens` through layers [first, end) is about to run: the experts each layer
  // sent them to the last time are hinted, layer by layer, and kept until the next recall()
  // (with no tokens, it only ends the last one's keeping).
  void recall(std::span<const int32_t> tokens, int64_t first, int64_t end);

  ExpertStoreStats stats() const;
  // Waits until no read is queued or running (the warm-up included).
  void wait_for_reads();

 private:
  enum State : int { kFree, kLoading, kReady, kFailed };
  struct Slot {
    std::atomic<int> state{kFree};
    int64_t layer = -1;
    int32_t expert = -1;
    bool pinned = false, hinted = false;
    uint64_t recalled = 0;  // the recall() that predicted it: kept for that forward where possible
    uint64_t last_use = 0;
    FfnWeights w;
    std::string error;
  };
  struct Job {
    int64_t slot;
    int priority;  // 0 demand, 1 hint, 2 warm
  };

  int64_t slot_of(int64_t layer, int32_t e) const { return where_[size_t(layer)][size_t(e)]; }
  int64_t take_slot(bool may_evict_used, double below_use, bool may_evict_recalled);
  void start_read(int64_t layer, int32_t e, int priority, bool may_evict_used, double below_use,
                  bool may_evict_recalled = true);
  void promote(int64_t slot);
  void io_loop(bool warm);
  void read_expert(Slot& s);
  void load_stats();
  void save_stats() const;
  double use(int64_t layer, int32_t e) const { return use_[size_t(layer)][size_t(e)]; }

  std::string path_;
  ExpertStoreOptions opt_;
  std::vector<LayerExperts> layers_;
  int64_t total_ = 0;
  uint64_t slot_bytes_ = 0;
  HugeBuffer arena_;
  int fd_ = -1, direct_fd_ = -1;
  std::unique_ptr<PageCacheProbe> cache_;
  std::unique_ptr<RoutingMemory> memory_;
  std::vector<uint8_t> recall_mark_;  // recall()'s experts of one layer
  uint64_t recall_epoch_ = 0;
  std::vector<Slot> slots_;
  std::vector<std::vector<int64_t>> where_;  // [layer][expert] -> slot, -1
  std::vector<std::vector<double>> use_;     // [layer][expert]: picks, halved every kHalfLife fetches
  std::vector<int64_t> pinned_;
  uint64_t clock_ = 0;
  int64_t fetches_ = 0;

  // The decoder thread's own counters.
  int64_t requests_ = 0, hits_ = 0, hints_ = 0, hints_used_ = 0, predictions_ = 0, predicted_right_ = 0;
  int64_t recalled_ = 0, recalled_right_ = 0;
  double wait_seconds_ = 0;

  mutable std::mutex mu_;  // the queues, waits for reads, io_stats_
  std::condition_variable work_cv_, done_cv_;
  std::deque<Job> queue_[3];
  bool stop_ = false;
  ExpertStoreStats io_stats_;  // reads, bytes_read, read_seconds
  std::vector<std::thread> io_;
};

}  // namespace dsinfer
