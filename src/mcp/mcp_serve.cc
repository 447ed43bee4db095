// McpServer::serve: the stdio loop. One thread reads lines and answers everything that is quick;
// tools/call runs on a small pool of worker threads so that a notifications/cancelled for it can
// be read while it runs. Every response is written whole, as one line, under one mutex.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>

#include "mcp/jsonrpc.h"
#include "mcp/mcp_server.h"

namespace paddock {

using nlohmann::json;

class McpServer::Serve {
 public:
  Serve(McpServer& server, int in_fd, int out_fd) : server_(server), in_fd_(in_fd), out_fd_(out_fd) {}
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;
  ~Serve() {
    stop_workers();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  int run() {
    // A worker whose write fails (the client closed stdout) wakes the reader through this, so
    // paddock does not sit in read() serving nobody.
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      std::fprintf(stderr, "paddock mcp: eventfd: %s\n", std::strerror(errno));
      return 1;
    }
    int status = 0;
    std::string partial;
    bool discarding = false;  // inside a line that was too long, until its newline
    std::vector<char> chunk(64 * 1024);
    for (;;) {
      pollfd fds[2] = {{in_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        std::fprintf(stderr, "paddock mcp: poll: %s\n", std::strerror(errno));
        status = 1;
        break;
      }
      if (fds[1].revents != 0) break;
      if (fds[0].revents == 0) continue;
      const ssize_t n = ::read(in_fd_, chunk.data(), chunk.size());
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        std::fprintf(stderr, "paddock mcp: reading requests: %s\n", std::strerror(errno));
        status = 1;
        break;
      }
      if (n == 0) {
        // A last line without a newline is still a message.
        if (!discarding && !partial.empty()) line(partial);
        break;
      }
      feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)), partial, discarding);
      if (broken_.load()) break;
    }
    // Nobody will read the answers of calls still running: let them stop early.
    if (broken_.load()) server_.cancel_all();
    stop_workers();
    return broken_.load() ? 1 : status;
  }

 private:
  void feed(std::string_view data, std::string& partial, bool& discarding) {
    while (!data.empty()) {
      const std::size_t newline = data.find('\n');
      const std::string_view piece = data.substr(0, newline);
      if (discarding) {
        if (newline == std::string_view::npos) return;
        discarding = false;
        data.remove_prefix(newline + 1);
        continue;
      }
      if (partial.size() + piece.size() > kMaxLineBytes) {
        // Refused as soon as it is known to be too long, without buffering the rest of it.
        write_line(jsonrpc::serialize(oversize_error()));
        partial.clear();
        if (newline == std::string_view::npos) {
          discarding = true;
          return;
        }
        data.remove_prefix(newline + 1);
        continue;
      }
      if (newline == std::string_view::npos) {
        partial.append(piece);
        return;
      }
      if (partial.empty()) {
        line(piece);
      } else {
        partial.append(piece);
        line(partial);
        partial.clear();
      }
      data.remove_prefix(newline + 1);
    }
  }

  void line(std::string_view text) {
    Outcome out = server_.process(text, kMaxPendingCalls);
    if (out.jobs.empty()) {
      write(std::move(out.now), out.batch);
      return;
    }
    if (!out.batch) {
      // A single tools/call: process() answered nothing else for this line.
      submit([this, job = std::move(out.jobs.front())] {
        if (auto response = server_.run(job)) write_line(jsonrpc::serialize(*response));
      });
      return;
    }
    // A batch is answered with one array once all of its calls are done.
    submit([this, now = std::move(out.now), jobs = std::move(out.jobs)]() mutable {
      for (const ToolJob& job : jobs) {
        if (auto response = server_.run(job)) now.push_back(std::move(*response));
      }
      write(std::move(now), true);
    });
  }

  void write(std::vector<json> responses, bool batch) {
    if (batch) {
      if (!responses.empty()) write_line(jsonrpc::serialize(json(std::move(responses))));
      return;
    }
    for (const json& response : responses) write_line(jsonrpc::serialize(response));
  }

  void write_line(std::string text) {
    text.push_back('\n');
    std::lock_guard lock(out_mutex_);
    if (broken_.load()) return;
    // A client that closed its end must not kill paddock with SIGPIPE, whatever the process's
    // disposition: block it for this thread while writing and take back the one our write raised.
    sigset_t pipe_only, old_mask, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
    sigpending(&pending);
    const bool pipe_was_pending = sigismember(&pending, SIGPIPE) == 1;
    std::string_view rest = text;
    int error = 0;
    while (!rest.empty()) {
      const ssize_t n = ::write(out_fd_, rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          pollfd out{out_fd_, POLLOUT, 0};
          ::poll(&out, 1, -1);
          continue;
        }
        error = errno;
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (error == EPIPE && !pipe_was_pending) {
      const timespec no_wait{};
      sigtimedwait(&pipe_only, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (error != 0) {
      if (error != EPIPE) std::fprintf(stderr, "paddock mcp: writing responses: %s\n", std::strerror(error));
      broken_.store(true);
      const std::uint64_t one = 1;
      [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
    }
  }

  void submit(std::function<void()> task) {
    std::unique_lock lock(pool_mutex_);
    queue_.push_back(std::move(task));
    if (idle_ > 0 || threads_.size() >= kMaxWorkers) {
      pool_cv_.notify_one();
      return;
    }
    try {
      threads_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      // No thread to be had: with no worker at all, run it here rather than never.
      if (!threads_.empty()) return;
      std::function<void()> inline_task = std::move(queue_.back());
      queue_.pop_back();
      lock.unlock();
      inline_task();
    }
  }

  void work() {
    std::unique_lock lock(pool_mutex_);
    for (;;) {
      ++idle_;
      pool_cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      --idle_;
      // Queued calls still run after end of input; a worker leaves only when nothing is left.
      if (queue_.empty()) return;
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  void stop_workers() {
    {
      std::lock_guard lock(pool_mutex_);
      stopping_ = true;
    }
    pool_cv_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  McpServer& server_;
  const int in_fd_, out_fd_;
  int wake_fd_ = -1;

  std::mutex out_mutex_;
  std::atomic<bool> broken_{false};

  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

int McpServer::serve(int in_fd, int out_fd) {
  Serve loop(*this, in_fd, out_fd);
  return loop.run();
}

}  // namespace paddock
