// A fixed-size pool of worker threads with per-key strands: tasks with the
// same key (a domain uuid) run one after another in submission order, tasks
// with different keys (or no key) run in parallel. Threads are started on
// demand, so an idle daemon keeps its memory small.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace lxvirt::daemon {

class WorkerPool {
public:
    explicit WorkerPool(unsigned max_threads);
    ~WorkerPool();  // waits for queued and running tasks
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void submit(const std::string& key, std::function<void()> task);
    // True when nothing for `key` is queued or running.
    bool idle(const std::string& key) const;
    unsigned threadCount() const;

private:
    struct Task {
        std::string key;
        std::function<void()> fn;
    };
    void run();
    void pushReady(Task t);  // with mu_ held

    unsigned max_threads_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Task> ready_;
    // key -> tasks waiting behind the one queued/running for that key.
    std::unordered_map<std::string, std::deque<std::function<void()>>> strands_;
    std::vector<std::thread> threads_;
    unsigned waiting_ = 0;  // threads blocked on cv_
    bool stopping_ = false;
};

}  // namespace lxvirt::daemon
