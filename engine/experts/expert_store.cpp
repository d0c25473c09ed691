#include "engine/experts/expert_store.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "engine/experts/resident_tensors.h"
#include "quant/atomic_file.h"
#include "simd/error.h"
#include "simd/kernels.h"
#include "simd/repack.h"

namespace dsinfer {

namespace {

constexpr uint64_t kPage = 4096;
// Every this many fetches (a fetch is one layer of one step) the use counts halve: recent use
// weighs more than old.
constexpr int64_t kHalfLife = 4096;
// Distinct tokens whose routing is remembered: a long chat's vocabulary (V3: 8 MB).
constexpr int64_t kRecallTokens = 8192;

uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// A matrix of an expert, read into `data`: into row groups when the kernels have them.
Matrix land(const Matrix& shape, uint8_t* data, bool repack, std::vector<uint8_t>& tmp) {
  Matrix m = shape;
  m.data = data;
  m.row_offset = 0;
  m.layout = Layout::Rows;
  const int64_t nb = m.cols / kBlockWeights;
  if (!repack || (m.type != DType::Q4_0 && m.type != DType::Q8_0) || m.rows % kRowGroup != 0 || nb < 1 ||
      nb > kR16MaxBlocks)
    return m;
  const size_t group = size_t(kRowGroup) * dtype_row_bytes(m.type, m.cols);
  tmp.resize(group);
  for (int64_t g = 0; g < m.rows / kRowGroup; ++g) {
    uint8_t* p = data + size_t(g) * group;
    std::memcpy(tmp.data(), p, group);
    if (m.type == DType::Q4_0)
      repack_q4_0_rows(reinterpret_cast<const BlockQ4_0*>(tmp.data()), nb, p);
    else
      repack_q8_0_rows(reinterpret_cast<const BlockQ8_0*>(tmp.data()), nb, p);
  }
  m.layout = Layout::RowGroups;
  return m;
}

}  // namespace

ExpertStore::ExpertStore(const std::string& path, std::vector<LayerExperts> layers, ExpertStoreOptions o)
    : path_(path), opt_(std::move(o)), layers_(std::move(layers)) {
  opt_.repack = opt_.repack && simd::kernels().r16_native;
  for (const LayerExperts& l : layers_) {
    total_ += int64_t(l.experts.size());
    for (const ExpertSlices& x : l.experts)
      slot_bytes_ = std::max(slot_bytes_, round_up(x.bytes[0], kPage) + round_up(x.bytes[1], kPage) +
                                              round_up(x.bytes[2], kPage));
  }
  if (total_ == 0 || slot_bytes_ == 0) fail(path_, "the expert store needs routed experts");
  const int64_t n = std::min<int64_t>(total_, int64_t(opt_.budget / slot_bytes_));
  if (n < 1) fail("--ram-budget", "holds no routed expert (one takes " + std::to_string(slot_bytes_ >> 20) + " MB)");
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path_, std::string("cannot open: ") + std::strerror(errno));
#ifdef O_DIRECT
  direct_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
#endif
  {
    struct stat st{};
    if (::fstat(fd_, &st) == 0) cache_ = std::make_unique<PageCacheProbe>(fd_, uint64_t(st.st_size));
  }
  arena_ = HugeBuffer(size_t(uint64_t(n) * slot_bytes_));
  if (!arena_.data()) {
    ::close(fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
    fail("--ram-budget", std::string("cannot reserve memory for the experts: ") + std::strerror(errno));
  }
  slots_ = std::vector<Slot>(size_t(n));
  where_.resize(layers_.size());
  use_.resize(layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    where_[l].assign(layers_[l].experts.size(), -1);
    use_[l].assign(layers_[l].experts.size(), 0.0);
  }
  if (opt_.recall_vocab > 0 && opt_.recall_top_k > 0 && n < total_) {
    size_t widest = 0;
    for (const LayerExperts& l : layers_) widest = std::max(widest, l.experts.size());
    memory_ = std::make_unique<RoutingMemory>(int64_t(layers_.size()), opt_.recall_top_k, opt_.recall_vocab,
                                              kRecallTokens);
    recall_mark_.assign(widest, 0);
  }
  load_stats();
  // Warm-up reads, lowest priority, into free slots only: the most used experts first (from
  // the saved statistics), then, when the budget holds most of them, the others in file order
  // until the slots are full. Measured on a cold start with 94% of the experts held: 5.2 tok/s
  // against 4.1 reading only on demand; with 40% held the guesses cost disk time the demands
  // needed (3.0 against 3.35 tok/s), so below 3/4 only the statistics guide it.
  const bool fill = 4 * n >= 3 * total_;
  std::vector<std::pair<double, std::pair<int64_t, int32_t>>> order;
  for (size_t l = 0; l < layers_.size(); ++l)
    for (size_t e = 0; e < layers_[l].experts.size(); ++e)
      if (use_[l][e] > 0 || fill) order.push_back({-use_[l][e], {int64_t(l), int32_t(e)}});
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [u, le] : order) {
    if (slot_of(le.first, le.second) >= 0) continue;
    const int64_t s = take_slot(false, -1.0, false);
    if (s < 0) break;
    Slot& sl = slots_[size_t(s)];
    sl.layer = le.first, sl.expert = le.second;
    sl.state.store(kLoading, std::memory_order_relaxed);
    where_[size_t(le.first)][size_t(le.second)] = s;
    queue_[2].push_back({s, 2});
  }
  for (int i = 0; i < std::max(1, opt_.io_threads); ++i) io_.emplace_back([this] { io_loop(false); });
  io_.emplace_back([this] { io_loop(true); });
}

ExpertStore::~ExpertStore() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : io_) t.join();
  try {
    save_stats();
  } catch (...) {  // statistics are an aid; a failure to save them must not end the run badly
  }
  if (fd_ >= 0) ::close(fd_);
  if (direct_fd_ >= 0) ::close(direct_fd_);
}

int64_t ExpertStore::take_slot(bool may_evict_used, double below_use, bool may_evict_recalled) {
  // The least used ready slot nobody holds; one the current forward's recall predicted only
  // when there is no other (so a demand read always finds a slot).
  int64_t victim[2] = {-1, -1};  // [predicted for this forward]
  auto before = [&](const Slot& a, const Slot& b) {
    const double ua = use(a.layer, a.expert), ub = use(b.layer, b.expert);
    return ua < ub || (ua == ub && a.last_use < b.last_use);
  };
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    const int st = s.state.load(std::memory_order_acquire);
    if (st == kFree || st == kFailed) return int64_t(i);
    if (st != kReady || s.pinned) continue;
    int64_t& v = victim[recall_epoch_ > 0 && s.recalled == recall_epoch_];
    if (v < 0 || before(s, slots_[size_t(v)])) v = int64_t(i);
  }
  const int64_t pick = victim[0] >= 0 ? victim[0] : may_evict_recalled ? victim[1] : -1;
  if (pick < 0) return -1;
  Slot& v = slots_[size_t(pick)];
  if (!may_evict_used && use(v.layer, v.expert) >= below_use) return -1;
  where_[size_t(v.layer)][size_t(v.expert)] = -1;
  v.state.store(kFree, std::memory_order_relaxed);
  return pick;
}

void ExpertStore::start_read(int64_t layer, int32_t e, int priority, bool may_evict_used, double below_use,
                             bool may_evict_recalled) {
  int64_t s = take_slot(may_evict_used, below_use, may_evict_recalled);
  while (s < 0 && priority == 0) {
    // Every slot is fetched or on its way: a read that lands frees one up.
    bool loading = false;
    for (const Slot& x : slots_) loading |= x.state.load(std::memory_order_acquire) == kLoading && !x.pinned;
    if (!loading) fail(path_, "internal error: more experts fetched at once than the store holds");
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait_for(g, std::chrono::milliseconds(1));
    g.unlock();
    s = take_slot(may_evict_used, below_use, may_evict_recalled);
  }
  if (s < 0) return;
  Slot& sl = slots_[size_t(s)];
  sl.layer = layer, sl.expert = e, sl.hinted = priority == 1, sl.error.clear();
  sl.state.store(kLoading, std::memory_order_release);
  where_[size_t(layer)][size_t(e)] = s;
  {
    std::lock_guard<std::mutex> g(mu_);
    queue_[priority].push_back({s, priority});
  }
  work_cv_.notify_all();  // the warm-up thread waits on the same condition
}

void ExpertStore::promote(int64_t s) {
  {
    std::lock_guard<std::mutex> g(mu_);
    bool moved = false;
    for (int q = 1; q < 3 && !moved; ++q)
      for (auto it = queue_[q].begin(); it != queue_[q].end(); ++it)
        if (it->slot == s) {
          queue_[q].erase(it);
          queue_[0].push_back({s, 0});
          moved = true;
          break;
        }
    if (!moved) return;  // being read already
  }
  work_cv_.notify_all();  // demand readers may all be asleep: the warm-up thread does not take it
}

void ExpertStore::fetch(int64_t layer, std::span<const int32_t> ids, std::span<const int32_t> picks) {
  if (++fetches_ % kHalfLife == 0)
    for (auto& l : use_)
      for (double& u : l) u *= 0.5;
  for (int32_t e : ids) {
    use_[size_t(layer)][size_t(e)] += picks.empty() ? 1.0 : double(picks[size_t(e)]);
    ++requests_;
    int64_t s = slot_of(layer, e);
    if (s < 0) {
      start_read(layer, e, 0, true, 0.0);
      s = slot_of(layer, e);
    } else {
      Slot& sl = slots_[size_t(s)];
      const int st = sl.state.load(std::memory_order_acquire);
      hits_ += st == kReady;
      if (sl.hinted) ++hints_used_, sl.hinted = false;
      if (st == kLoading) promote(s);  // a hinted or warm-up read not started yet goes first
    }
    Slot& sl = slots_[size_t(s)];
    sl.pinned = true;
    sl.last_use = ++clock_;
    pinned_.push_back(s);
  }
}

bool ExpertStore::ready(int64_t layer, int32_t e) const {
  const int64_t s = slot_of(layer, e);
  return s >= 0 && slots_[size_t(s)].state.load(std::memory_order_acquire) == kReady;
}

const FfnWeights& ExpertStore::get(int64_t layer, int32_t e) {
  const int64_t s = slot_of(layer, e);
  if (s < 0) fail(path_, "internal error: an expert used before it was fetched");
  Slot& sl = slots_[size_t(s)];
  if (sl.state.load(std::memory_order_acquire) == kLoading) {
    const auto t0 = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait(g, [&] { return sl.state.load(std::memory_order_acquire) != kLoading; });
    wait_seconds_ += seconds_since(t0);
  }
  if (sl.state.load(std::memory_order_acquire) == kFailed)
    fail(path_, "cannot read expert " + std::to_string(e) + " of layer " + std::to_string(layer) + ": " + sl.error);
  return sl.w;
}

void ExpertStore::release() {
  for (int64_t s : pinned_) slots_[size_t(s)].pinned = false;
  pinned_.clear();
}

void ExpertStore::hint(int64_t layer, std::span<const int32_t> ids) {
  for (int32_t e : ids) {
    if (slot_of(layer, e) >= 0) continue;
    start_read(layer, e, 1, false, use(layer, e));
    hints_ += slot_of(layer, e) >= 0;
  }
}

void ExpertStore::score_prediction(int64_t, std::span<const int32_t> predicted, std::span<const int32_t> routed) {
  for (int32_t p : predicted) predicted_right_ += std::find(routed.begin(), routed.end(), p) != routed.end();
  predictions_ += int64_t(predicted.size());
}

void ExpertStore::remember(int64_t layer, std::span<const int32_t> tokens, std::span<const int32_t> ids) {
  if (!memory_) return;
  const size_t k = size_t(memory_->top_k());
  for (size_t t = 0; t < tokens.size() && (t + 1) * k <= ids.size(); ++t) {
    const int64_t hits = memory_->remember(layer, tokens[t], ids.subspan(t * k, k));
    if (hits >= 0) recalled_ += int64_t(k), recalled_right_ += hits;
  }
}

void ExpertStore::recall(std::span<const int32_t> tokens, int64_t first, int64_t end) {
  if (!memory_) return;
  ++recall_epoch_;
  first = std::max<int64_t>(first, 0);
  end = std::min(end, int64_t(layers_.size()));
  auto predicted = [&](int64_t l) {  // marks layer l's experts in recall_mark_; how many it has
    const size_t E = layers_[size_t(l)].experts.size();
    std::fill_n(recall_mark_.begin(), E, 0);
    for (int32_t t : tokens)
      for (uint16_t e : memory_->recall(l, t))
        if (e < E) recall_mark_[e] = 1;
    return E;
  };
  // First what is there already is kept for this forward, then the rest is read, layer by
  // layer, each as likely to be asked for as a fetched expert: it may take the slot of any
  // expert this forward is not predicted to need. Reads ahead stop at half the slots: what a
  // layer fetches must still find room.
  for (int64_t l = first; l < end; ++l)
    for (size_t e = 0, E = predicted(l); e < E; ++e)
      if (const int64_t s = slot_of(l, int32_t(e)); recall_mark_[e] && s >= 0) slots_[size_t(s)].recalled = recall_epoch_;
  int64_t budget = int64_t(slots_.size()) / 2;
  for (int64_t l = first; l < end && budget > 0; ++l)
    for (size_t e = 0, E = predicted(l); e < E && budget > 0; ++e) {
      if (!recall_mark_[e] || slot_of(l, int32_t(e)) >= 0) continue;
      start_read(l, int32_t(e), 1, true, 0.0, false);
      const int64_t s = slot_of(l, int32_t(e));
      if (s < 0) return;  // every slot is held or predicted
      slots_[size_t(s)].recalled = recall_epoch_;
      ++hints_, --budget;
    }
}

ExpertStoreStats ExpertStore::stats() const {
  ExpertStoreStats st;
  {
    std::lock_guard<std::mutex> g(mu_);
    st = io_stats_;
  }
  st.requests = requests_, st.hits = hits_, st.hints = hints_, st.hints_used = hints_used_;
  st.predictions = predictions_, st.predicted_right = predicted_right_, st.wait_seconds = wait_seconds_;
  st.recalled = recalled_, st.recalled_right = recalled_right_;
  return st;
}

void ExpertStore::wait_for_reads() {
  std::unique_lock<std::mutex> g(mu_);
  done_cv_.wait(g, [&] {
    for (const Slot& s : slots_)
      if (s.state.load(std::memory_order_acquire) == kLoading) return false;
    return true;
  });
}

void ExpertStore::io_loop(bool warm) {
  // Warm-up reads (and their repacking, which is CPU work) run only on cores nothing else
  // wants: decode's threads keep their cores, and a chat warms up while its user types.
#ifdef SCHED_IDLE
  if (warm) {
    sched_param p{};
    ::sched_setscheduler(0, SCHED_IDLE, &p);  // Linux: the calling thread only
  }
#endif
  const int first = warm ? 2 : 0, last = warm ? 2 : 1;
  for (;;) {
    Job j{};
    {
      std::unique_lock<std::mutex> g(mu_);
      work_cv_.wait(g, [&] {
        if (stop_) return true;
        for (int q = first; q <= last; ++q)
          if (!queue_[q].empty()) return true;
        return false;
      });
      if (stop_) return;
      for (int q = first; q <= last; ++q)
        if (!queue_[q].empty()) {
          j = queue_[q].front();
          queue_[q].pop_front();
          break;
        }
    }
    read_expert(slots_[size_t(j.slot)]);
  }
}

void ExpertStore::read_expert(Slot& s) {
  thread_local std::vector<uint8_t> tmp;
  const auto t0 = std::chrono::steady_clock::now();
  const LayerExperts& L = layers_[size_t(s.layer)];
  const ExpertSlices& x = L.experts[size_t(s.expert)];
  uint8_t* base = arena_.data() + size_t(&s - slots_.data()) * slot_bytes_;
  uint8_t* dst[3];
  std::string err;
  size_t off = 0;
  uint64_t cached = 0;
  for (int i = 0; i < 3 && err.empty(); ++i) {
    dst[i] = base + off;
    const bool c = cache_ && cache_->cached(x.offset[i], x.bytes[i]);
    cached += c ? x.bytes[i] : 0;
    err = read_file_range(direct_fd_, fd_, x.offset[i], x.bytes[i], dst[i], c || opt_.keep_cache);
    off += round_up(x.bytes[i], kPage);
  }
  if (err.empty()) {
    s.w.gate = land(L.shape.gate, dst[0], opt_.repack, tmp);
    s.w.up = land(L.shape.up, dst[1], opt_.repack, tmp);
    s.w.down = land(L.shape.down, dst[2], opt_.repack, tmp);
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    s.error = err;
    ++io_stats_.reads;
    io_stats_.bytes_read += x.bytes[0] + x.bytes[1] + x.bytes[2];
    io_stats_.bytes_cached += cached;
    io_stats_.read_seconds += seconds_since(t0);
    s.state.store(err.empty() ? kReady : kFailed, std::memory_order_release);
  }
  done_cv_.notify_all();
}

void ExpertStore::load_stats() {
  if (opt_.stats_path.empty()) return;
  std::ifstream in(opt_.stats_path);
  if (!in) return;  // written at the end of this run
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail(opt_.stats_path, std::string("not expert statistics: ") + e.what());
  }
  if (!j.contains("layers") || !j["layers"].is_array() || j["layers"].size() != layers_.size())
    fail(opt_.stats_path, "expert statistics of another model (layer count differs)");
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& a = j["layers"][l];
    if (!a.is_array() || a.size() != layers_[l].experts.size())
      fail(opt_.stats_path, "expert statistics of another model (layer " + std::to_string(l) + " differs)");
    for (size_t e = 0; e < a.size(); ++e) use_[l][e] = a[e].is_number() ? a[e].get<double>() : 0.0;
  }
}

void ExpertStore::save_stats() const {
  if (opt_.stats_path.empty()) return;
  nlohmann::json j;
  j["file"] = path_;
  j["layers"] = nlohmann::json::array();
  for (const auto& l : use_) j["layers"].push_back(l);
  AtomicFile f(opt_.stats_path);
  f.write(j.dump() + "\n");
  f.commit();
}

}  // namespace dsinfer
