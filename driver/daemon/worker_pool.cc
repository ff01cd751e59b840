#include "driver/daemon/worker_pool.h"

namespace lxvirt::daemon {

WorkerPool::WorkerPool(unsigned max_threads) : max_threads_(max_threads ? max_threads : 1) {}

WorkerPool::~WorkerPool()
{
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        t.join();
}

// A waiting thread that was notified counts in waiting_ until it has the
// lock again, so it may already be claimed by an earlier task: a new thread
// is needed whenever more tasks are ready than threads wait for them.
void WorkerPool::pushReady(Task t)
{
    ready_.push_back(std::move(t));
    if (ready_.size() > waiting_ && threads_.size() < max_threads_)
        threads_.emplace_back([this] { run(); });
    else
        cv_.notify_one();
}

void WorkerPool::submit(const std::string& key, std::function<void()> task)
{
    std::lock_guard lock(mu_);
    if (!key.empty()) {
        auto it = strands_.find(key);
        if (it != strands_.end()) {
            it->second.push_back(std::move(task));
            return;
        }
        strands_.emplace(key, std::deque<std::function<void()>>{});
    }
    pushReady(Task{key, std::move(task)});
}

bool WorkerPool::idle(const std::string& key) const
{
    std::lock_guard lock(mu_);
    return strands_.find(key) == strands_.end();
}

unsigned WorkerPool::threadCount() const
{
    std::lock_guard lock(mu_);
    return static_cast<unsigned>(threads_.size());
}

void WorkerPool::run()
{
    std::unique_lock lock(mu_);
    for (;;) {
        while (ready_.empty() && !stopping_) {
            ++waiting_;
            cv_.wait(lock);
            --waiting_;
        }
        if (ready_.empty())
            return;  // stopping and drained
        Task t = std::move(ready_.front());
        ready_.pop_front();
        lock.unlock();
        t.fn();
        t.fn = nullptr;  // drop captures outside the lock
        lock.lock();
        if (!t.key.empty()) {
            auto it = strands_.find(t.key);
            if (it->second.empty()) {
                strands_.erase(it);
            } else {
                Task next{t.key, std::move(it->second.front())};
                it->second.pop_front();
                pushReady(std::move(next));
            }
        }
    }
}

}  // namespace lxvirt::daemon
