// Golden-byte tests of the XDR codec and libvirt's RPC framing (vectors
// re-typed from libvirt's tests/virnetmessagetest.c), plus the procedure
// table driven through the fake driver.
#include "driver/rpc/dispatch.h"
#include "driver/rpc/protocol.h"
#include "tests/unit/fake_driver.h"
#include "tests/unit/tap.h"

#include <libvirt/libvirt.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>
#include <unistd.h>

using namespace lxvirt;
using namespace lxvirt::rpc;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(const std::string& s)
{
    Bytes out;
    std::string digits;
    for (char c : s)
        if (std::isxdigit(static_cast<unsigned char>(c)))
            digits.push_back(c);
    for (size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    return out;
}

std::string dump(const Bytes& b)
{
    static const char* d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < b.size(); ++i) {
        if (i && i % 4 == 0)
            s += ' ';
        s += d[b[i] >> 4];
        s += d[b[i] & 15];
    }
    return s;
}

#define ASSERT_BYTES(expected, actual) CPPUNIT_ASSERT_EQUAL(dump(expected), dump(actual))

Bytes ascii(const char* s) { return Bytes(s, s + std::strlen(s)); }

struct StrPair {
    std::string a;
    std::optional<std::string> b;
    XDR_FIELDS(a, b)
};

// A call packet for `proc` with `args` encoded, as a client would send it.
template <class A>
Bytes callPacket(int procNum, const A& args, uint32_t serial = 7, uint32_t prog = kRemoteProgram)
{
    Header h;
    h.prog = prog;
    h.proc = procNum;
    h.type = MessageType::Call;
    h.serial = serial;
    return makePacket(h, args);
}

}  // namespace

class RpcCodecTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RpcCodecTest);
    CPPUNIT_TEST(aHeaderOnlyPacketMatchesLibvirtsBytes);
    CPPUNIT_TEST(anErrorPayloadMatchesLibvirtsBytes);
    CPPUNIT_TEST(streamDataIsRawWithoutPaddingOrLength);
    CPPUNIT_TEST(stringsArePaddedToFourBytesAndOptionalsCarryADiscriminant);
    CPPUNIT_TEST(aDomainReferenceIsNameUuidAndId);
    CPPUNIT_TEST(typedParametersAreAUnionOnTheirType);
    CPPUNIT_TEST(rpcgenCharsAreFourByteIntsAndLabelsCountTheirNul);
    CPPUNIT_TEST(theLengthWordRefusesShortAndOversizedPackets);
    CPPUNIT_TEST(decodingRefusesTruncatedAndOverlongInput);
    CPPUNIT_TEST(headersRoundTripAndRefuseUnknownTypes);
    CPPUNIT_TEST(replyWithFdsCarriesTheFdCountBeforeThePayload);
    CPPUNIT_TEST(theProcedureTableAnswersGetInfoFromTheDriver);
    CPPUNIT_TEST(driverErrorsBecomeRemoteErrorsUnchanged);
    CPPUNIT_TEST(unknownProceduresAreNotSupportedWithLibvirtsMessage);
    CPPUNIT_TEST(listAllDomainsHonoursNeedResultsAndFlags);
    CPPUNIT_TEST(connectOpenAcceptsOnlyLocalLxcUris);
    CPPUNIT_TEST(lifecycleEventsGoToMatchingCallbacksWithTheirId);
    CPPUNIT_TEST(memoryParametersAnswerACountQueryFirst);
    CPPUNIT_TEST_SUITE_END();

public:
    void aHeaderOnlyPacketMatchesLibvirtsBytes()
    {
        Header h;
        h.prog = 0x11223344;
        h.vers = 1;
        h.proc = 0x666;
        h.type = MessageType::Call;
        h.serial = 0x99;
        h.status = MessageStatus::Ok;
        Bytes got = makePacket(h, Void{});
        ASSERT_BYTES(hex("0000001c 11223344 00000001 00000666 00000000 00000099 00000000"), got);
    }

    void anErrorPayloadMatchesLibvirtsBytes()
    {
        Header h;
        h.prog = 0x11223344;
        h.proc = 0x666;
        h.type = MessageType::Message;
        h.serial = 0x99;
        h.status = MessageStatus::Error;
        RemoteError e;
        e.code = VIR_ERR_INTERNAL_ERROR;
        e.domain = VIR_FROM_RPC;
        e.message = "Hello World";
        e.level = VIR_ERR_ERROR;
        e.str1 = "One";
        e.str2 = "Two";
        e.str3 = "Three";
        e.int1 = 1;
        e.int2 = 2;
        Bytes got = makePacket(h, e);
        Bytes want = hex("00000074 11223344 00000001 00000666 00000002 00000099 00000001"
                         "00000001 00000007"
                         "00000001 0000000b 48656c6c 6f20576f 726c6400"
                         "00000002 00000000"
                         "00000001 00000003 4f6e6500"
                         "00000001 00000003 54776f00"
                         "00000001 00000005 54687265 65000000"
                         "00000001 00000002 00000000");
        ASSERT_BYTES(want, got);
        XdrReader r(got.data() + 4, got.size() - 4);
        decodeHeader(r);
        RemoteError back;
        decode(r, back);
        r.expectEnd();
        CPPUNIT_ASSERT_EQUAL(std::string("Hello World"), *back.message);
        CPPUNIT_ASSERT_EQUAL(std::string("Three"), *back.str3);
        CPPUNIT_ASSERT(!back.dom);
    }

    void streamDataIsRawWithoutPaddingOrLength()
    {
        Header h;
        h.prog = 0x11223344;
        h.proc = 0x666;
        h.type = MessageType::Stream;
        h.serial = 0x99;
        h.status = MessageStatus::Continue;
        PacketBuilder b(h);
        const char* text = "The quick brown fox jumps over the lazy dog";
        b.raw(text, std::strlen(text));
        Bytes got = b.finish();
        Bytes want = hex("00000047 11223344 00000001 00000666 00000003 00000099 00000002");
        Bytes body = ascii(text);
        want.insert(want.end(), body.begin(), body.end());
        ASSERT_BYTES(want, got);
    }

    void stringsArePaddedToFourBytesAndOptionalsCarryADiscriminant()
    {
        ASSERT_BYTES(hex("00000003 61626300 00000000"), encodeToBytes(StrPair{"abc", std::nullopt}));
        ASSERT_BYTES(hex("00000004 61626364 00000001 00000000"), encodeToBytes(StrPair{"abcd", std::string()}));
        ASSERT_BYTES(hex("00000000 00000001 00000005 68656c6c 6f000000"), encodeToBytes(StrPair{"", "hello"}));
        auto back = decodeAll<StrPair>(hex("00000001 78000000 00000001 00000002 797a0000").data(), 20);
        CPPUNIT_ASSERT_EQUAL(std::string("x"), back.a);
        CPPUNIT_ASSERT_EQUAL(std::string("yz"), *back.b);
    }

    void aDomainReferenceIsNameUuidAndId()
    {
        DomainRef d;
        d.name = "web";
        for (int i = 0; i < 16; ++i)
            d.uuid[i] = static_cast<unsigned char>(i);
        d.id = -1;
        ASSERT_BYTES(hex("00000003 77656200 00010203 04050607 08090a0b 0c0d0e0f ffffffff"), encodeToBytes(d));
    }

    void typedParametersAreAUnionOnTheirType()
    {
        TypedParam p{"cpu_shares", uint64_t(1024)};
        ASSERT_BYTES(hex("0000000a 6370755f 73686172 65730000 00000004 00000000 00000400"), encodeToBytes(p));
        TypedParam q{"vcpu_quota", int64_t(-1)};
        ASSERT_BYTES(hex("0000000a 76637075 5f71756f 74610000 00000003 ffffffff ffffffff"), encodeToBytes(q));
        TypedParam w{"weight", uint32_t(500)};
        ASSERT_BYTES(hex("00000006 77656967 68740000 00000002 000001f4"), encodeToBytes(w));
        TypedParam s{"s", std::string("v")};
        Bytes sb = encodeToBytes(s);
        ASSERT_BYTES(hex("00000001 73000000 00000007 00000001 76000000"), sb);
        auto back = decodeAll<TypedParam>(sb.data(), sb.size());
        CPPUNIT_ASSERT_EQUAL(std::string("v"), std::get<std::string>(back.value));
        Bytes bad = hex("00000001 73000000 00000009 00000000");
        CPPUNIT_ASSERT_THROW(decodeAll<TypedParam>(bad.data(), bad.size()), DecodeError);
    }

    void rpcgenCharsAreFourByteIntsAndLabelsCountTheirNul()
    {
        CharVar<257> label{"none"};
        ASSERT_BYTES(hex("00000005 0000006e 0000006f 0000006e 00000065 00000000"), encodeToBytes(label));
        CharFixed<32> model{"x86_64"};
        Bytes m = encodeToBytes(model);
        CPPUNIT_ASSERT_EQUAL(size_t(128), m.size());
        ASSERT_BYTES(hex("00000078 00000038 00000036 0000005f 00000036 00000034 00000000"), Bytes(m.begin(), m.begin() + 28));
        CPPUNIT_ASSERT_EQUAL(std::string("x86_64"), decodeAll<CharFixed<32>>(m.data(), m.size()).value);
    }

    void theLengthWordRefusesShortAndOversizedPackets()
    {
        uint8_t ok[4] = {0, 0, 0, 28};
        CPPUNIT_ASSERT_EQUAL(28u, decodeLength(ok));
        uint8_t shortPkt[4] = {0, 0, 0, 27};
        CPPUNIT_ASSERT_THROW(decodeLength(shortPkt), DecodeError);
        uint8_t max[4] = {0x02, 0x00, 0x00, 0x04};  // 32 MiB + the length word
        CPPUNIT_ASSERT_EQUAL(0x02000004u, decodeLength(max));
        uint8_t huge[4] = {0x04, 0x00, 0x00, 0x00};  // 64 MiB
        CPPUNIT_ASSERT_THROW(decodeLength(huge), DecodeError);
    }

    void decodingRefusesTruncatedAndOverlongInput()
    {
        Bytes truncated = hex("00000008 61626364");
        CPPUNIT_ASSERT_THROW(decodeAll<std::string>(truncated.data(), truncated.size()), DecodeError);
        Bytes trailing = hex("00000001 61000000 00000000");
        CPPUNIT_ASSERT_THROW(decodeAll<std::string>(trailing.data(), trailing.size()), DecodeError);
        // A count of a million domains in a 8-byte message is refused before allocating.
        Bytes hugeCount = hex("000f4240 00000000");
        using List = Array<DomainRef, 16384>;
        CPPUNIT_ASSERT_THROW((decodeAll<List>(hugeCount.data(), hugeCount.size())), DecodeError);
        Bytes badOptional = hex("00000002");
        CPPUNIT_ASSERT_THROW(decodeAll<std::optional<std::string>>(badOptional.data(), badOptional.size()), DecodeError);
    }

    void headersRoundTripAndRefuseUnknownTypes()
    {
        Bytes pkt = callPacket(23, std::string("web"), 42);
        CPPUNIT_ASSERT_EQUAL(size_t(pkt[3]), pkt.size());
        XdrReader r(pkt.data() + 4, pkt.size() - 4);
        Header h = decodeHeader(r);
        CPPUNIT_ASSERT_EQUAL(kRemoteProgram, h.prog);
        CPPUNIT_ASSERT_EQUAL(23, h.proc);
        CPPUNIT_ASSERT_EQUAL(42u, h.serial);
        CPPUNIT_ASSERT(h.type == MessageType::Call);
        Bytes bad = hex("20008086 00000001 00000017 00000009 00000001 00000000");
        XdrReader rb(bad.data(), bad.size());
        CPPUNIT_ASSERT_THROW(decodeHeader(rb), DecodeError);
    }

    void replyWithFdsCarriesTheFdCountBeforeThePayload()
    {
        Header h;
        h.prog = kLxcProgram;
        h.proc = 1;
        h.type = MessageType::ReplyWithFds;
        h.serial = 5;
        Bytes got = makePacket(h, Void{}, 2);
        ASSERT_BYTES(hex("00000020 00068000 00000001 00000001 00000005 00000005 00000000 00000002"), got);
    }

    void theProcedureTableAnswersGetInfoFromTheDriver()
    {
        auto drv = test::makeFakeDriver();
        DomainRef dom = drv->defineXml("<domain type='lxc'><name>t1</name>"
                                       "<uuid>00112233-4455-6677-8899-aabbccddeeff</uuid>"
                                       "<memory unit='MiB'>64</memory><vcpu>2</vcpu></domain>",
                                       0);
        Bytes reply = call(*drv, 16, dom);
        // header: REPLY, OK, same serial; then state 5 (shutoff), max 65536 KiB,
        // memory 65536 KiB, 2 vcpus, cpu time 0.
        Bytes want = hex("0000003c 20008086 00000001 00000010 00000001 00000007 00000000"
                         "00000005 00000000 00010000 00000000 00010000 00000002 00000000 00000000");
        ASSERT_BYTES(want, reply);
    }

    void driverErrorsBecomeRemoteErrorsUnchanged()
    {
        auto drv = test::makeFakeDriver();
        Bytes reply = call(*drv, 23, std::string("nosuch"));
        XdrReader r(reply.data() + 4, reply.size() - 4);
        Header h = decodeHeader(r);
        CPPUNIT_ASSERT(h.type == MessageType::Reply);
        CPPUNIT_ASSERT(h.status == MessageStatus::Error);
        RemoteError e;
        decode(r, e);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), e.code);
        CPPUNIT_ASSERT_EQUAL(int(VIR_FROM_LXC), e.domain);
        CPPUNIT_ASSERT_EQUAL(std::string("Domain not found: no domain with matching name 'nosuch'"), *e.message);
    }

    void unknownProceduresAreNotSupportedWithLibvirtsMessage()
    {
        CPPUNIT_ASSERT(remoteProcedures().find(426) == nullptr);
        RemoteError e = unsupportedProcedure(kRemoteProgram, 426);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_SUPPORT), e.code);
        CPPUNIT_ASSERT_EQUAL(std::string("this function is not supported by the connection driver: virDomainGetMessages"),
                             *e.message);
        RemoteError s = unsupportedProcedure(kRemoteProgram, 187);
        CPPUNIT_ASSERT_EQUAL(int(VIR_FROM_DOMAIN_SNAPSHOT), s.domain);
        RemoteError p = unsupportedProcedure(kRemoteProgram, 281);
        CPPUNIT_ASSERT_EQUAL(int(VIR_FROM_STORAGE), p.domain);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_SUPPORT), unsupportedProcedure(kRemoteProgram, 9999).code);
    }

    void listAllDomainsHonoursNeedResultsAndFlags()
    {
        auto drv = test::makeFakeDriver();
        DomainRef a = drv->defineXml("<domain type='lxc'><name>a</name><memory>1024</memory></domain>", 0);
        drv->defineXml("<domain type='lxc'><name>b</name><memory>1024</memory></domain>", 0);
        drv->create(a, 0);
        struct Args { int32_t need = 0; uint32_t flags = 0; XDR_FIELDS(need, flags) };
        Bytes all = call(*drv, 273, Args{1, 0});
        Bytes active = call(*drv, 273, Args{1, VIR_CONNECT_LIST_DOMAINS_ACTIVE});
        Bytes count = call(*drv, 273, Args{0, 0});
        auto countOf = [](const Bytes& b) {
            XdrReader r(b.data() + 28, b.size() - 28);
            return r.u32();
        };
        CPPUNIT_ASSERT_EQUAL(2u, countOf(all));
        CPPUNIT_ASSERT_EQUAL(1u, countOf(active));
        CPPUNIT_ASSERT_EQUAL(0u, countOf(count));                              // no domains sent...
        CPPUNIT_ASSERT_EQUAL(2u, XdrReader(count.data() + 32, 4).u32());        // ...but ret counts them
    }

    void connectOpenAcceptsOnlyLocalLxcUris()
    {
        auto drv = test::makeFakeDriver();
        struct Open { std::optional<std::string> name; uint32_t flags = 0; XDR_FIELDS(name, flags) };
        for (const char* good : {"lxc:///", "lxc:///system", "lxc:///system?foo=bar"}) {
            Session s;
            Bytes r = call(*drv, 1, Open{std::string(good), 0}, &s);
            CPPUNIT_ASSERT_MESSAGE(good, XdrReader(r.data() + 24, 4).u32() == 0);
            CPPUNIT_ASSERT(s.open);
        }
        Session s;
        Bytes r = call(*drv, 1, Open{std::string("lxc:///session"), 0}, &s);
        XdrReader rr(r.data() + 4, r.size() - 4);
        decodeHeader(rr);
        RemoteError e;
        decode(rr, e);
        CPPUNIT_ASSERT_EQUAL(std::string("internal error: Unexpected LXC URI path '/session', try lxc:///system"),
                             *e.message);
        CPPUNIT_ASSERT(!s.open);
        Session ro;
        call(*drv, 1, Open{std::string("lxc:///system"), VIR_CONNECT_RO}, &ro);
        CPPUNIT_ASSERT(ro.readonly);
    }

    void lifecycleEventsGoToMatchingCallbacksWithTheirId()
    {
        Session s;
        s.callbacks.push_back({7, VIR_DOMAIN_EVENT_ID_LIFECYCLE, std::nullopt});
        s.callbacks.push_back({8, VIR_DOMAIN_EVENT_ID_REBOOT, std::nullopt});
        std::array<unsigned char, 16> other{};
        other[0] = 1;
        s.callbacks.push_back({9, VIR_DOMAIN_EVENT_ID_LIFECYCLE, other});
        DomainEvent ev;
        ev.lifecycle.dom.name = "a";
        ev.lifecycle.event = VIR_DOMAIN_EVENT_STOPPED;
        ev.lifecycle.detail = VIR_DOMAIN_EVENT_STOPPED_DESTROYED;
        auto pkts = eventPackets(s, ev);
        CPPUNIT_ASSERT_EQUAL(size_t(1), pkts.size());
        Bytes want = hex("00000044 20008086 00000001 0000013e 00000002 00000000 00000000"
                         "00000007 00000001 61000000 00000000 00000000 00000000 00000000 ffffffff"
                         "00000005 00000001");
        ev.lifecycle.dom.id = -1;
        ASSERT_BYTES(want, eventPackets(s, ev)[0]);
    }

    void memoryParametersAnswerACountQueryFirst()
    {
        auto drv = test::makeFakeDriver();
        DomainRef d = drv->defineXml("<domain type='lxc'><name>m</name><memory>1024</memory></domain>", 0);
        struct Args { DomainRef dom; int32_t n = 0; uint32_t flags = 0; XDR_FIELDS(dom, n, flags) };
        Bytes countOnly = call(*drv, 198, Args{d, 0, 0});
        // params<> empty, nparams = 3
        ASSERT_BYTES(hex("00000000 00000003"), Bytes(countOnly.begin() + 28, countOnly.end()));
        Bytes values = call(*drv, 198, Args{d, 3, 0});
        XdrReader r(values.data() + 28, values.size() - 28);
        Array<TypedParam, 16> params;
        decode(r, params);
        CPPUNIT_ASSERT_EQUAL(size_t(3), params.size());
        CPPUNIT_ASSERT_EQUAL(std::string("hard_limit"), params[0].field);
        CPPUNIT_ASSERT_EQUAL(uint64_t(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED), std::get<uint64_t>(params[0].value));
    }

private:
    // Runs one call through the REMOTE procedure table and returns the reply.
    template <class A>
    Bytes call(DomainDriver& drv, int procNum, const A& args, Session* session = nullptr)
    {
        Session local;
        Session& s = session ? *session : local;
        Bytes pkt = callPacket(procNum, args);
        XdrReader r(pkt.data() + 4, pkt.size() - 4);
        Header h = decodeHeader(r);
        const Procedure* p = remoteProcedures().find(procNum);
        CPPUNIT_ASSERT(p);
        CallContext ctx{drv, s, h};
        Prepared prep = p->prepare(ctx, r);
        try {
            return prep.job().packet;
        } catch (const Error& e) {
            return errorReplyFor(h, e);
        }
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(RpcCodecTest);
