// The daemon's worker pool: calls for different domains run in parallel,
// calls for one domain one after another, in order.
#include "driver/daemon/worker_pool.h"
#include "tests/unit/tap.h"

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using lxvirt::daemon::WorkerPool;

namespace {

using namespace std::chrono_literals;

// Counts arrivals; wait() returns true once `n` have arrived (false after
// the timeout).
class Barrier {
public:
    explicit Barrier(int n) : n_(n) {}
    void arrive()
    {
        std::lock_guard<std::mutex> l(mu_);
        ++count_;
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout)
    {
        std::unique_lock<std::mutex> l(mu_);
        return cv_.wait_for(l, timeout, [&] { return count_ >= n_; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    int n_, count_ = 0;
};

} // namespace

class WorkerPoolTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WorkerPoolTest);
    CPPUNIT_TEST(tasksSubmittedTogetherRunTogetherWhileOneThreadIsIdle);
    CPPUNIT_TEST(tasksOfOneKeyRunOneAfterAnotherInOrder);
    CPPUNIT_TEST(noMoreThreadsThanTheLimit);
    CPPUNIT_TEST_SUITE_END();

public:
    // Each of three tasks for different keys waits until all three run. A
    // pool whose one thread is idle must start two more at once: counting
    // the idle thread once per submit (it has not woken for the first task
    // yet when the next comes) ran them one after another.
    void tasksSubmittedTogetherRunTogetherWhileOneThreadIsIdle()
    {
        for (int round = 0; round < 10; ++round) {
            WorkerPool pool(4);
            Barrier warm(1);
            pool.submit("warm", [&] { warm.arrive(); });
            CPPUNIT_ASSERT(warm.wait(2s));
            std::this_thread::sleep_for(10ms); // the thread is back waiting
            Barrier all(3), done(3);
            std::atomic<int> saw_all{0};
            for (const char *key : {"a", "b", "c"})
                pool.submit(key, [&] {
                    all.arrive();
                    if (all.wait(2s))
                        ++saw_all;
                    done.arrive();
                });
            CPPUNIT_ASSERT(done.wait(10s));
            CPPUNIT_ASSERT_EQUAL_MESSAGE("round " + std::to_string(round), 3, saw_all.load());
        }
    }

    void tasksOfOneKeyRunOneAfterAnotherInOrder()
    {
        WorkerPool pool(4);
        std::mutex mu;
        std::vector<int> order;
        std::atomic<int> running{0}, overlap{0};
        Barrier done(20);
        for (int i = 0; i < 20; ++i)
            pool.submit("dom", [&, i] {
                if (running.fetch_add(1) != 0)
                    ++overlap;
                std::this_thread::sleep_for(1ms);
                {
                    std::lock_guard<std::mutex> l(mu);
                    order.push_back(i);
                }
                running.fetch_sub(1);
                done.arrive();
            });
        CPPUNIT_ASSERT(done.wait(10s));
        CPPUNIT_ASSERT_EQUAL(0, overlap.load());
        for (int i = 0; i < 20; ++i)
            CPPUNIT_ASSERT_EQUAL(i, order[size_t(i)]);
    }

    void noMoreThreadsThanTheLimit()
    {
        WorkerPool pool(2);
        Barrier release(1), done(6);
        std::atomic<int> running{0}, most{0};
        for (int i = 0; i < 6; ++i)
            pool.submit("k" + std::to_string(i), [&] {
                int now = ++running;
                int m = most.load();
                while (now > m && !most.compare_exchange_weak(m, now)) {
                }
                release.wait(200ms);
                --running;
                done.arrive();
            });
        release.arrive();
        CPPUNIT_ASSERT(done.wait(10s));
        CPPUNIT_ASSERT(most.load() <= 2);
        CPPUNIT_ASSERT(pool.threadCount() <= 2);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WorkerPoolTest);
