// MCS category-pair allocator for sVirt dynamic labels.
//
// A dynamic container label carries two distinct categories "s0:cA,cB"
// (A < B). Two categories, never one: a single-category level is dominated by
// every pair that contains it, so a container labelled "s0:c5" could read
// the files of "s0:c5,c9". Pairs are unique among the labels held by one
// allocator (one per daemon); a restarted daemon re-reserves the pairs of
// running containers from their live labels.
#pragma once

#include <cstddef>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace lxvirt::security {

// The part of a context after "user:role:type:", e.g. "s0-s0:c0.c1023";
// empty when the context has no level.
std::string contextRange(const std::string &context);

// Replaces (or appends) the range of `context`: ("u:r:t:s0", "s0:c1,c2")
// -> "u:r:t:s0:c1,c2".
std::string contextWithRange(const std::string &context, const std::string &range);

// The type field of a context ("" when malformed).
std::string contextType(const std::string &context);

// Categories a daemon may hand out, taken from its own context's range.
struct McsRange {
    std::string sensitivity = "s0";   // low sensitivity of the daemon's range
    std::vector<unsigned> categories; // sorted, unique

    // The daemon's range as in libvirt: "s0-s0:c0.c1023" -> s0, c0..c1023.
    // No category part (or no range at all) means c0.c1023 at s0.
    // Throws lxvirt::Error for malformed ranges and for fewer than 8
    // categories (too few pairs to keep containers apart).
    static McsRange fromContext(const std::string &context);
    static McsRange fromRange(const std::string &range);
};

// Parses "s0:c3,c7" (also "c3.c5" spans) into the sensitivity and the sorted
// category set. Returns false when `level` is not of that form.
bool parseLevel(const std::string &level, std::string &sensitivity, std::vector<unsigned> &categories);

class McsAllocator {
public:
    explicit McsAllocator(McsRange range);
    // Deterministic sequence, for tests.
    McsAllocator(McsRange range, uint64_t seed);

    // A new "sN:cA,cB" level with A < B from the range, not currently held;
    // it is held until release(). Throws lxvirt::Error when every pair is held.
    std::string allocate();

    // Holds an existing level (a running container's, on reconnect).
    // Throws lxvirt::Error when it is already held.
    void reserve(const std::string &level);

    // Gives a level back; unknown levels are ignored.
    void release(const std::string &level);

    bool isHeld(const std::string &level) const { return held_.count(level) != 0; }
    std::size_t heldCount() const { return held_.size(); }
    const McsRange &range() const { return range_; }

private:
    McsRange range_;
    std::set<std::string> held_;
    std::mt19937_64 rng_;
};

} // namespace lxvirt::security
