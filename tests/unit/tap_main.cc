// Shared main() for every CppUnit test program: runs all registered tests and
// prints TAP (one "ok"/"not ok" line per test case) for automake's TAP driver,
// so `make check` counts test cases, not programs.
// A test skips by throwing lxvirt::test::Skip("reason").
#include "tests/unit/tap.h"

#include <cppunit/Test.h>
#include <cppunit/TestFailure.h>
#include <cppunit/TestListener.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/extensions/TestFactoryRegistry.h>
#include <cppunit/Exception.h>
#include <cppunit/SourceLine.h>
#include <cppunit/Protector.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

void collect(CppUnit::Test* test, std::vector<CppUnit::Test*>& out)
{
    if (test->getChildTestCount() == 0) {
        out.push_back(test);
        return;
    }
    for (int i = 0; i < test->getChildTestCount(); ++i)
        collect(test->getChildTestAt(i), out);
}

// Turns Skip into a recorded skip instead of an error.
class SkipProtector : public CppUnit::Protector {
public:
    std::string* skip_reason = nullptr;
    bool protect(const CppUnit::Functor& functor, const CppUnit::ProtectorContext& context) override
    {
        try {
            return functor();
        } catch (const lxvirt::test::Skip& s) {
            if (skip_reason && skip_reason->empty())
                *skip_reason = s.what();
            return false;
        }
    }
};

class Listener : public CppUnit::TestListener {
public:
    bool failed = false;
    std::string message;
    void startTest(CppUnit::Test*) override
    {
        failed = false;
        message.clear();
    }
    void addFailure(const CppUnit::TestFailure& f) override
    {
        failed = true;
        const CppUnit::Exception* e = f.thrownException();
        message += (f.isError() ? "error: " : "failure: ");
        if (e) {
            message += e->what();
            if (f.sourceLine().isValid())
                message += " (" + f.sourceLine().fileName() + ":" +
                           std::to_string(f.sourceLine().lineNumber()) + ")";
        }
    }
};

}  // namespace

int main(int argc, char** argv)
{
    CppUnit::Test* all = CppUnit::TestFactoryRegistry::getRegistry().makeTest();
    std::vector<CppUnit::Test*> tests;
    collect(all, tests);

    // Optional filter: only tests whose name contains argv[1].
    const char* filter = argc > 1 ? argv[1] : nullptr;
    std::vector<CppUnit::Test*> selected;
    for (auto* t : tests)
        if (!filter || t->getName().find(filter) != std::string::npos)
            selected.push_back(t);

    std::printf("1..%zu\n", selected.size());
    std::fflush(stdout);
    int n = 0, bad = 0;
    for (auto* t : selected) {
        ++n;
        CppUnit::TestResult result;
        Listener listener;
        std::string skip_reason;
        auto* protector = new SkipProtector;
        protector->skip_reason = &skip_reason;
        result.pushProtector(protector);
        result.addListener(&listener);
        t->run(&result);
        const std::string name = t->getName();
        if (!skip_reason.empty() && !listener.failed) {
            std::printf("ok %d - %s # SKIP %s\n", n, name.c_str(), skip_reason.c_str());
        } else if (!skip_reason.empty() || !listener.failed) {
            std::printf("ok %d - %s\n", n, name.c_str());
        } else {
            ++bad;
            std::string msg = listener.message;
            for (auto& c : msg)
                if (c == '\n')
                    c = ' ';
            std::printf("not ok %d - %s\n# %s\n", n, name.c_str(), msg.c_str());
        }
        std::fflush(stdout);
    }
    delete all;
    return bad ? 1 : 0;
}
