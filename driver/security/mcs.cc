#include "driver/security/mcs.h"

#include "xml/error.h"

#include <algorithm>
#include <charconv>

namespace lxvirt::security {

namespace {

Error rangeError(const std::string &what)
{
    return Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECURITY, what);
}

bool parseNumber(const std::string &s, unsigned &out)
{
    if (s.empty())
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parseCategory(const std::string &s, unsigned &out)
{
    return s.size() > 1 && s[0] == 'c' && parseNumber(s.substr(1), out);
}

// "c0.c3,c7" -> {0,1,2,3,7}
bool parseCategorySet(const std::string &text, std::vector<unsigned> &out)
{
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        std::size_t dot = item.find('.');
        unsigned lo, hi;
        if (dot == std::string::npos) {
            if (!parseCategory(item, lo))
                return false;
            hi = lo;
        } else if (!parseCategory(item.substr(0, dot), lo) || !parseCategory(item.substr(dot + 1), hi) ||
                   hi < lo) {
            return false;
        }
        // 1024 categories is refpolicy's MCS_CATS; a larger span is a typo.
        if (hi - lo > 65535)
            return false;
        for (unsigned c = lo; c <= hi; ++c)
            out.push_back(c);
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return true;
}

std::string formatPair(const std::string &sens, unsigned a, unsigned b)
{
    if (a > b)
        std::swap(a, b);
    return sens + ":c" + std::to_string(a) + ",c" + std::to_string(b);
}

} // namespace

std::string contextRange(const std::string &context)
{
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        pos = context.find(':', pos);
        if (pos == std::string::npos)
            return "";
        ++pos;
    }
    return context.substr(pos);
}

std::string contextWithRange(const std::string &context, const std::string &range)
{
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        std::size_t next = context.find(':', pos);
        if (next == std::string::npos)
            return context + ":" + range;
        pos = next + 1;
    }
    return context.substr(0, pos) + range;
}

std::string contextType(const std::string &context)
{
    std::size_t a = context.find(':');
    if (a == std::string::npos)
        return "";
    std::size_t b = context.find(':', a + 1);
    if (b == std::string::npos)
        return "";
    std::size_t c = context.find(':', b + 1);
    return context.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
}

bool parseLevel(const std::string &level, std::string &sensitivity, std::vector<unsigned> &categories)
{
    categories.clear();
    std::size_t colon = level.find(':');
    sensitivity = level.substr(0, colon);
    unsigned s;
    if (sensitivity.size() < 2 || sensitivity[0] != 's' || !parseNumber(sensitivity.substr(1), s))
        return false;
    if (colon == std::string::npos)
        return true;
    return parseCategorySet(level.substr(colon + 1), categories);
}

McsRange McsRange::fromContext(const std::string &context)
{
    return fromRange(contextRange(context));
}

McsRange McsRange::fromRange(const std::string &range)
{
    McsRange r;
    if (range.empty()) {
        for (unsigned c = 0; c < 1024; ++c)
            r.categories.push_back(c);
        return r;
    }
    // "low-high": the sensitivity comes from the low level, the categories
    // from the high level (what the daemon may dominate).
    std::size_t dash = range.find('-');
    std::string low = range.substr(0, dash);
    std::string high = dash == std::string::npos ? low : range.substr(dash + 1);
    std::string lowSens, highSens;
    std::vector<unsigned> lowCats;
    if (!parseLevel(low, lowSens, lowCats) || !parseLevel(high, highSens, r.categories))
        throw rangeError("Unable to parse the MCS range '" + range + "' of the daemon's security context");
    r.sensitivity = lowSens;
    if (high.find(':') == std::string::npos) {
        for (unsigned c = 0; c < 1024; ++c)
            r.categories.push_back(c);
    }
    if (r.categories.size() < 8)
        throw rangeError("Category range " + high + " too small: at least 8 categories are needed");
    return r;
}

McsAllocator::McsAllocator(McsRange range) : McsAllocator(std::move(range), std::random_device{}()) {}

McsAllocator::McsAllocator(McsRange range, uint64_t seed) : range_(std::move(range)), rng_(seed)
{
    if (range_.categories.size() < 2)
        throw rangeError("MCS category range holds fewer than two categories");
}

std::string McsAllocator::allocate()
{
    const auto &cats = range_.categories;
    std::uniform_int_distribution<std::size_t> pick(0, cats.size() - 1);
    // Random pairs first, as libvirt does: cheap while the space is sparse.
    for (int attempt = 0; attempt < 1000; ++attempt) {
        std::size_t i = pick(rng_), j = pick(rng_);
        if (i == j)
            continue;
        std::string level = formatPair(range_.sensitivity, cats[i], cats[j]);
        if (held_.insert(level).second)
            return level;
    }
    // Nearly full: walk every pair from a random start so a free one is found
    // whenever one exists.
    std::size_t n = cats.size();
    std::size_t start = pick(rng_);
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = (start + k) % n;
        for (std::size_t j = i + 1; j < n; ++j) {
            std::string level = formatPair(range_.sensitivity, cats[i], cats[j]);
            if (held_.insert(level).second)
                return level;
        }
    }
    throw rangeError("no free MCS category pair left in the daemon's range (" + std::to_string(held_.size()) +
                     " held)");
}

namespace {

// Same pair, same key: "s0:c9,c2" and "s0:c2,c9" are one level.
std::string normalizeLevel(const std::string &level)
{
    std::string sens;
    std::vector<unsigned> cats;
    if (!parseLevel(level, sens, cats))
        return level;
    if (cats.empty())
        return sens;
    std::string out = sens + ":";
    for (std::size_t i = 0; i < cats.size(); ++i)
        out += (i ? ",c" : "c") + std::to_string(cats[i]);
    return out;
}

} // namespace

void McsAllocator::reserve(const std::string &level)
{
    std::string key = normalizeLevel(level);
    if (!held_.insert(key).second)
        throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECURITY,
                          "MCS level for existing domain label " + level + " already reserved");
}

void McsAllocator::release(const std::string &level)
{
    held_.erase(normalizeLevel(level));
}

} // namespace lxvirt::security
