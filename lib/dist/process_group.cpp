// dist/process_group.cpp: ProcessGroup (see process_group.hpp): creation, the failure rule, and the collectives
// over c10d::Backend.
#include "dist/process_group.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include "dist/backend.hpp"
#include "dist/buckets.hpp"
#include "dist/guard.hpp"
#include "memtx/error.hpp"

namespace memtx::dist {
namespace {

constexpr size_t kMaxGatherBytes = 16u << 20;

// SIGPIPE ignored unless the host installed its own handler (see process_group.hpp).
void ignore_default_sigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) != 0) return;
  if ((current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
  }
}

bool reducible(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: case torch::kDouble: case torch::kHalf: case torch::kBFloat16:
    case torch::kChar: case torch::kByte: case torch::kInt: case torch::kLong:
      return true;
    default:
      return false;
  }
}

// "host pid-namespace pid": which process a rank is, for telling later whether it has exited (see exited_peers).
std::string process_identity() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  struct stat ns {};
  const unsigned long long ns_id = ::stat("/proc/self/ns/pid", &ns) == 0 ? ns.st_ino : 0;
  return std::string(host) + " " + std::to_string(ns_id) + " " + std::to_string(::getpid());
}

// Whether process pid (of this pid namespace) has exited: gone, or a zombie its parent has not reaped yet.
bool process_exited(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');  // "pid (comm) state ..."; comm may hold spaces and parentheses
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

std::string hex64(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

}  // namespace

const char* backend_name(BackendKind kind) { return kind == BackendKind::Nccl ? "nccl" : "gloo"; }

bool backend_available(BackendKind kind) {
  return kind == BackendKind::Gloo ? detail::gloo_available() : detail::nccl_available();
}

struct ProcessGroup::Impl {
  World world;
  GroupOptions options;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  torch::Device device{torch::kCPU};  // where the internal tensors of all_gather and barrier live
  std::string failure;                // the first communication failure; the group is broken once it is set

  std::string where(const char* op) const {
    return std::string("distributed ") + op + " on rank " + std::to_string(world.rank) + " of " +
           std::to_string(world.world_size);
  }

  static std::string proc_key(int rank) { return "memtx/proc/" + std::to_string(rank); }

  // Publishes this process's identity, and once every rank has (after the backend connected them all),
  // reads theirs: a failure then tells which peers on this machine have exited without asking the store,
  // which dies with rank 0.
  std::vector<std::string> processes;  // by rank; empty when unknown
  void publish_process() {
    const std::string id = process_identity();
    store->set(proc_key(world.rank), std::vector<uint8_t>(id.begin(), id.end()));
  }
  void read_processes() {
    std::vector<std::string> keys;
    for (int r = 0; r < world.world_size; ++r) keys.push_back(proc_key(r));
    try {
      for (const auto& bytes : store->multiGet(keys)) processes.emplace_back(bytes.begin(), bytes.end());
    } catch (const std::exception&) {
      processes.clear();  // only the messages lose detail
    }
  }

  // Ranks on this machine (same host name and pid namespace) whose process has exited.
  std::vector<int> exited_peers() const {
    std::vector<int> out;
    const std::string me = process_identity();
    const std::string host_ns = me.substr(0, me.rfind(' ') + 1);
    for (size_t r = 0; r < processes.size(); ++r) {
      if (static_cast<int>(r) == world.rank || processes[r].rfind(host_ns, 0) != 0) continue;
      try {
        if (process_exited(std::stol(processes[r].substr(host_ns.size())))) out.push_back(static_cast<int>(r));
      } catch (const std::exception&) {
        // A garbled identity: say nothing about this rank.
      }
    }
    return out;
  }

  // Who the failure is about, as far as this process can tell. A peer's sockets close while it exits, a moment
  // before the kernel shows it as exited: look again for up to half a second.
  std::string culprit() const {
    auto gone = exited_peers();
    for (int i = 0; i < 25 && gone.empty() && !processes.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gone = exited_peers();
    }
    if (!gone.empty()) {
      std::string names;
      for (size_t i = 0; i < gone.size(); ++i) names += (i ? ", rank " : "rank ") + std::to_string(gone[i]);
      return names + (gone.size() == 1 ? " has" : " have") + " exited";
    }
    if (world.rank != 0 && store && !detail::store_answers(store))
      return "rank 0 is gone (its rendezvous store no longer answers)";
    if (world.world_size == 2) return "communication with rank " + std::to_string(1 - world.rank) + " failed";
    return "communication with a peer failed";
  }

  [[noreturn]] void fail(const char* op, const std::string& text) {
    const std::string peer = culprit();
    failure = where(op) + " (" + backend_name(options.backend) + "): " + peer + ": " + text +
              ". A process of the run died, hung, or made a different call; every collective gives up after " +
              detail::duration_text(options.timeout);
    throw Error(StatusCode::Io, failure);
  }

  // Runs one c10d collective and waits for it. A refusal to start it (c10d's checks of the tensors) is
  // Error(InvalidArgument); a communication error, when starting or while it runs, breaks the group.
  template <typename Start>
  void run(const char* op, Start&& start) {
    finish(op, begin(op, std::forward<Start>(start)));
  }

  template <typename Start>
  c10::intrusive_ptr<c10d::Work> begin(const char* op, Start&& start) {
    if (!failure.empty())
      throw Error(StatusCode::Io, where(op) + ": the process group is broken by an earlier failure: " + failure);
    try {
      return start();
    } catch (const c10::DistError& e) {
      fail(op, detail::exception_text(e));
    } catch (const std::exception& e) {
      throw Error(StatusCode::InvalidArgument, where(op) + ": " + detail::exception_text(e));
    }
  }

  void finish(const char* op, const c10::intrusive_ptr<c10d::Work>& work) {
    try {
      // The backend's own timeout (options.timeout) fires first and says more; this bound is the safety net.
      work->wait(options.timeout + std::chrono::seconds(5));
    } catch (const std::exception& e) {
      fail(op, detail::exception_text(e));
    }
  }

  std::vector<c10::intrusive_ptr<c10d::Work>> started;  // start_all_reduce_sum's, in start order

  void start_sum(const torch::Tensor& flat) {
    if (!flat.defined() || flat.layout() != torch::kStrided || flat.dim() != 1 || !flat.is_contiguous() ||
        !flat.is_floating_point() || !reducible(flat.scalar_type()))
      throw Error(StatusCode::InvalidArgument, where("all_reduce_sum") + ": a started sum takes one contiguous 1-d "
                                                                          "floating-point tensor");
    if (!backend || flat.numel() == 0) return;
    started.push_back(begin("all_reduce_sum", [&] {
      std::vector<at::Tensor> list{flat};
      return backend->allreduce(list);
    }));
  }

  void wait_started() {
    auto works = std::move(started);
    started.clear();
    for (const auto& work : works) finish("all_reduce_sum", work);
  }

  void check_tensors(const char* op, const std::vector<torch::Tensor>& tensors, bool floating_only) const {
    for (size_t i = 0; i < tensors.size(); ++i) {
      const torch::Tensor& t = tensors[i];
      if (!t.defined() || t.layout() != torch::kStrided) continue;  // plan_buckets names these
      const bool ok = floating_only ? t.is_floating_point() && reducible(t.scalar_type()) : reducible(t.scalar_type());
      if (!ok)
        throw Error(StatusCode::InvalidArgument,
                    std::string("distributed ") + op + ": tensor " + std::to_string(i) + " has dtype " +
                        std::string(c10::toString(t.scalar_type())) +
                        (floating_only ? "; expected float32, float64, float16 or bfloat16"
                                       : "; expected a floating-point, int8, uint8, int32 or int64 dtype"));
    }
  }

  void reduce(const char* op, const std::vector<torch::Tensor>& tensors, bool mean) {
    check_tensors(op, tensors, mean);
    const auto plan = plan_buckets(tensors, options.bucket_bytes);
    if (!backend) return;  // a world of one: the sum and the mean are the tensors themselves
    torch::NoGradGuard no_grad;
    for (const Bucket& bucket : plan) {
      if (bucket.numel == 0) continue;
      torch::Tensor flat = flatten_bucket(tensors, bucket);
      run(op, [&] {
        std::vector<at::Tensor> list{flat};
        return backend->allreduce(list);
      });
      if (mean) flat.div_(static_cast<double>(world.world_size));
      unflatten_bucket(flat, tensors, bucket);
    }
  }

  // reduce_scatter (whole -> part) or all_gather (part -> whole) of flat tensors: whole has size() parts.
  void sharded(const char* op, const torch::Tensor& part, const torch::Tensor& whole, bool reduce) {
    for (const torch::Tensor* t : {&part, &whole})
      if (!t->defined() || t->layout() != torch::kStrided || t->dim() != 1 || !t->is_contiguous() ||
          !t->is_floating_point() || !reducible(t->scalar_type()))
        throw Error(StatusCode::InvalidArgument, where(op) + ": tensors must be contiguous 1-d floating-point tensors");
    if (part.scalar_type() != whole.scalar_type() || part.device() != whole.device())
      throw Error(StatusCode::InvalidArgument, where(op) + ": the two tensors differ in dtype or device");
    if (whole.numel() != part.numel() * world.world_size)
      throw Error(StatusCode::InvalidArgument,
                  where(op) + ": " + std::to_string(whole.numel()) + " elements is not " +
                      std::to_string(world.world_size) + " parts of " + std::to_string(part.numel()));
    torch::NoGradGuard no_grad;
    if (!backend) {  // a world of one
      if (reduce) part.copy_(whole);
      else whole.copy_(part);
      return;
    }
    at::Tensor p = part, w = whole;
    run(op, [&] { return reduce ? backend->_reduce_scatter_base(p, w) : backend->_allgather_base(w, p); });
  }

  void create(const World& world, const GroupOptions& options);
  void broadcast(const std::vector<torch::Tensor>& tensors, int root);
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  std::vector<std::vector<int64_t>> all_gather_int64(const std::vector<int64_t>& values);
  void barrier();
  void check_config_digest(uint64_t digest);

  // Every rank's tensor (same dtype and shape on all ranks), on every rank.
  std::vector<torch::Tensor> gather(const char* op, const torch::Tensor& mine) {
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < world.world_size; ++r) out[0].push_back(torch::empty_like(mine));
    run(op, [&] {
      std::vector<at::Tensor> in{mine};
      return backend->allgather(out, in);
    });
    return std::move(out[0]);
  }
};

ProcessGroup::ProcessGroup(const World& world, const GroupOptions& options) : impl_(std::make_unique<Impl>()) {
  detail::guarded("process group", [&] { impl_->create(world, options); });
}

void ProcessGroup::Impl::create(const World& world, const GroupOptions& options) {
  Impl& g = *this;
  g.world = world;
  g.options = options;
  if (world.world_size < 1 || world.rank < 0 || world.rank >= world.world_size)
    throw Error(StatusCode::InvalidArgument, "process group: rank " + std::to_string(world.rank) +
                                                 " is outside a world of " + std::to_string(world.world_size));
  if (options.timeout.count() < 1)
    throw Error(StatusCode::InvalidArgument, "process group: the timeout must be at least 1 ms");
  if (options.bucket_bytes < 1)
    throw Error(StatusCode::InvalidArgument, "process group: bucket_bytes must be at least 1");
  if (options.backend == BackendKind::Nccl) {
    if (world.local_rank > std::numeric_limits<c10::DeviceIndex>::max())
      throw Error(StatusCode::InvalidArgument, "process group: LOCAL_RANK " + std::to_string(world.local_rank) +
                                                   " is no CUDA device index");
    g.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank));
  }
  if (world.world_size == 1 && !options.backend_for_one) return;
  if (!backend_available(options.backend))
    throw Error(StatusCode::InvalidArgument,
                std::string("process group: backend ") + backend_name(options.backend) +
                    " is not in this build of memtx (" +
                    (options.backend == BackendKind::Nccl ? "it needs a CUDA build with nccl.h"
                                                          : "gloo's headers were not found when it was built; "
                                                            "Debian: libgloo-dev") + ")");
  if (world.master_addr.empty() || world.master_port == 0)
    throw Error(StatusCode::InvalidArgument, "process group: MASTER_ADDR and MASTER_PORT are not set");
  try {
    ignore_default_sigpipe();
    g.store = detail::make_store(world, options.timeout);
    publish_process();
    g.backend = options.backend == BackendKind::Nccl ? detail::make_nccl_backend(g.store, world, options.timeout)
                                                     : detail::make_gloo_backend(g.store, world, options.timeout);
    read_processes();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(StatusCode::Io, g.where("set-up") + ": " + detail::exception_text(e));
  }
}

ProcessGroup::~ProcessGroup() {
  if (!impl_) return;
  try {
    impl_->backend.reset();  // before the store: the backend's threads may still read it
    impl_->store.reset();
  } catch (...) {
    // Tearing down a broken group may fail; nothing to report from a destructor.
  }
}

ProcessGroup::ProcessGroup(ProcessGroup&&) noexcept = default;
ProcessGroup& ProcessGroup::operator=(ProcessGroup&&) noexcept = default;

ProcessGroup::Impl& ProcessGroup::impl() const {
  if (!impl_) throw Error(StatusCode::InvalidArgument, "process group: used after it was moved from");
  return *impl_;
}

int ProcessGroup::rank() const { return impl().world.rank; }
int ProcessGroup::size() const { return impl().world.world_size; }
const World& ProcessGroup::world() const { return impl().world; }
const GroupOptions& ProcessGroup::options() const { return impl().options; }
bool ProcessGroup::has_backend() const { return static_cast<bool>(impl().backend); }

void ProcessGroup::all_reduce_sum(const std::vector<torch::Tensor>& tensors) {
  detail::guarded("distributed all_reduce_sum", [&] { impl().reduce("all_reduce_sum", tensors, false); });
}

void ProcessGroup::all_reduce_mean(const std::vector<torch::Tensor>& tensors) {
  detail::guarded("distributed all_reduce_mean", [&] { impl().reduce("all_reduce_mean", tensors, true); });
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  detail::guarded("distributed broadcast", [&] { impl().broadcast(tensors, root); });
}

std::vector<std::string> ProcessGroup::all_gather_bytes(const std::string& bytes) {
  return detail::guarded("distributed all_gather", [&] { return impl().all_gather_bytes(bytes); });
}

std::vector<std::vector<int64_t>> ProcessGroup::all_gather_int64(const std::vector<int64_t>& values) {
  return detail::guarded("distributed all_gather", [&] { return impl().all_gather_int64(values); });
}

void ProcessGroup::reduce_scatter_sum(const torch::Tensor& input, torch::Tensor& output) {
  detail::guarded("distributed reduce_scatter", [&] { impl().sharded("reduce_scatter", output, input, true); });
}

void ProcessGroup::all_gather_flat(const torch::Tensor& input, torch::Tensor& output) {
  detail::guarded("distributed all_gather", [&] { impl().sharded("all_gather", input, output, false); });
}

void ProcessGroup::start_all_reduce_sum(const torch::Tensor& flat) {
  detail::guarded("distributed all_reduce_sum", [&] { impl().start_sum(flat); });
}

void ProcessGroup::wait_started() {
  detail::guarded("distributed all_reduce_sum", [&] { impl().wait_started(); });
}

void ProcessGroup::barrier() {
  detail::guarded("distributed barrier", [&] { impl().barrier(); });
}

void ProcessGroup::check_config_digest(uint64_t digest) {
  detail::guarded("distributed config check", [&] { impl().check_config_digest(digest); });
}

void ProcessGroup::Impl::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  Impl& g = *this;
  if (root < 0 || root >= g.world.world_size)
    throw Error(StatusCode::InvalidArgument, "distributed broadcast: root " + std::to_string(root) +
                                                 " is outside a world of " + std::to_string(g.world.world_size));
  const auto plan = plan_buckets(tensors, g.options.bucket_bytes);
  if (!g.backend) return;
  torch::NoGradGuard no_grad;
  for (const Bucket& bucket : plan) {
    if (bucket.numel == 0) continue;
    torch::Tensor flat;
    if (g.world.rank == root || bucket.members.size() == 1) flat = flatten_bucket(tensors, bucket);
    else flat = torch::empty({bucket.numel}, tensors[bucket.members[0]].options().requires_grad(false));
    g.run("broadcast", [&] {
      std::vector<at::Tensor> list{flat};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      return g.backend->broadcast(list, options);
    });
    if (g.world.rank != root) unflatten_bucket(flat, tensors, bucket);
  }
}

std::vector<std::string> ProcessGroup::Impl::all_gather_bytes(const std::string& bytes) {
  Impl& g = *this;
  if (!g.backend) {
    if (bytes.size() > kMaxGatherBytes)
      throw Error(StatusCode::InvalidArgument, "distributed all_gather: " + std::to_string(bytes.size()) +
                                                   " bytes; at most " + std::to_string(kMaxGatherBytes) + " per rank");
    return {bytes};
  }
  torch::NoGradGuard no_grad;
  const auto long_options = torch::TensorOptions().dtype(torch::kLong).device(g.device);
  const auto lengths = g.gather("all_gather", torch::full({1}, static_cast<int64_t>(bytes.size()), long_options));
  std::vector<int64_t> length(lengths.size());
  int64_t longest = 0;
  for (size_t r = 0; r < lengths.size(); ++r) {
    length[r] = lengths[r].cpu().item<int64_t>();
    if (length[r] < 0 || length[r] > static_cast<int64_t>(kMaxGatherBytes))
      throw Error(StatusCode::InvalidArgument, "distributed all_gather: rank " + std::to_string(r) + " sends " +
                                                   std::to_string(length[r]) + " bytes; at most " +
                                                   std::to_string(kMaxGatherBytes) + " per rank");
    longest = std::max(longest, length[r]);
  }
  std::vector<std::string> out(lengths.size());
  if (longest == 0) return out;
  torch::Tensor mine = torch::zeros({longest}, torch::kByte);
  if (!bytes.empty()) std::memcpy(mine.data_ptr(), bytes.data(), bytes.size());
  const auto parts = g.gather("all_gather", mine.to(g.device));
  for (size_t r = 0; r < parts.size(); ++r) {
    const torch::Tensor part = parts[r].cpu().contiguous();
    out[r].assign(static_cast<const char*>(part.data_ptr()), static_cast<size_t>(length[r]));
  }
  return out;
}

std::vector<std::vector<int64_t>> ProcessGroup::Impl::all_gather_int64(const std::vector<int64_t>& values) {
  std::string bytes(values.size() * sizeof(int64_t), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  const auto gathered = all_gather_bytes(bytes);
  std::vector<std::vector<int64_t>> out(gathered.size());
  for (size_t r = 0; r < gathered.size(); ++r) {
    if (gathered[r].size() % sizeof(int64_t) != 0)
      throw Error(StatusCode::Internal, "distributed all_gather: rank " + std::to_string(r) +
                                            " sent a byte count that is not a whole number of int64 values");
    out[r].resize(gathered[r].size() / sizeof(int64_t));
    if (!out[r].empty()) std::memcpy(out[r].data(), gathered[r].data(), gathered[r].size());
  }
  return out;
}

void ProcessGroup::Impl::barrier() {
  Impl& g = *this;
  if (!g.backend) return;
  if (g.options.backend == BackendKind::Gloo) {
    g.run("barrier", [&] { return g.backend->barrier(); });
    return;
  }
  // NCCL's barrier guesses the device from the rank; a one-element all-reduce on ours is the same rendezvous.
  torch::Tensor one = torch::ones({1}, torch::TensorOptions().device(g.device));
  g.run("barrier", [&] {
    std::vector<at::Tensor> list{one};
    return g.backend->allreduce(list);
  });
}

void ProcessGroup::Impl::check_config_digest(uint64_t digest) {
  const auto all = all_gather_int64({static_cast<int64_t>(digest)});
  std::vector<int> differ;
  for (size_t r = 0; r < all.size(); ++r)
    if (all[r].size() != 1 || all[r] != all[0]) differ.push_back(static_cast<int>(r));
  if (differ.empty()) return;
  std::string names, digests;
  for (size_t i = 0; i < differ.size(); ++i) {
    const int r = differ[i];
    names += (i == 0 ? "" : i + 1 == differ.size() ? " and " : ", ") + std::string("rank ") + std::to_string(r);
    digests += (i == 0 ? "" : ", ") + std::string("rank ") + std::to_string(r) + " " +
               (all[r].size() == 1 ? hex64(static_cast<uint64_t>(all[r][0])) : std::string("none"));
  }
  throw Error(StatusCode::Config,
              "the processes of the run do not have the same configuration: " + names +
                  (differ.size() == 1 ? " differs" : " differ") + " from rank 0 (" +
                  "config digest " + hex64(static_cast<uint64_t>(all[0].at(0))) + " on rank 0; " + digests +
                  "); start every rank with the same config file and flags");
}

}  // namespace memtx::dist
