// cgroup v2 device allow-list as a BPF_PROG_TYPE_CGROUP_DEVICE program; the
// instruction layout is documented in v2_devices.h.
#include "driver/cgroup/v2_devices.h"

#include "xml/error.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lxvirt::cgroup::detail {

namespace {

struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn i;
    std::memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

struct bpf_insn ldxW(uint8_t dst, uint8_t src, int16_t off)
{
    return insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
}
struct bpf_insn aluK(uint8_t op, uint8_t dst, int32_t imm)
{
    return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
struct bpf_insn movX(uint8_t dst, uint8_t src)
{
    return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
struct bpf_insn jneK(uint8_t dst, int32_t imm, int16_t off)
{
    return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm);
}
struct bpf_insn exitInsn()
{
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

uint32_t accessBits(const std::string& access)
{
    if (access.empty() || access.find_first_not_of("rwm") != std::string::npos)
        throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                          "device access '" + access + "' must be a non-empty subset of 'rwm'");
    uint32_t bits = 0;
    for (char c : access)
        bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    return bits;
}

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

long bpfCall(int cmd, union bpf_attr* attr)
{
    return ::syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

uint32_t progId(int fd)
{
    struct bpf_prog_info info;
    std::memset(&info, 0, sizeof info);
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.info.bpf_fd = fd;
    attr.info.info_len = sizeof info;
    attr.info.info = reinterpret_cast<uintptr_t>(&info);
    if (bpfCall(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
        throw Error::system(errno, "Unable to query the device BPF program", VIR_FROM_CGROUP);
    return info.id;
}

}  // namespace

std::vector<struct bpf_insn> buildDeviceProgram(const std::vector<DeviceRule>& allow)
{
    std::vector<struct bpf_insn> p = {
        ldxW(2, 1, 0),
        aluK(BPF_AND, 2, 0xffff),
        ldxW(3, 1, 0),
        aluK(BPF_RSH, 3, 16),
        ldxW(4, 1, 4),
        ldxW(5, 1, 8),
    };
    for (const auto& r : allow) {
        uint32_t acc = accessBits(r.access);
        if (r.type != 'a' && r.type != 'b' && r.type != 'c')
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                              std::string("device type '") + r.type + "' must be 'a', 'b' or 'c'");
        // Tests of this block with the jump offset still unknown; the block
        // ends with "r0 = 1; exit", so "next" is known once it is emitted.
        std::vector<struct bpf_insn> block;
        if (r.type != 'a')
            block.push_back(jneK(2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
        if (acc != kAllAccess) {
            block.push_back(movX(0, 3));
            block.push_back(aluK(BPF_AND, 0, static_cast<int32_t>(~acc & kAllAccess)));
            block.push_back(jneK(0, 0, 0));
        }
        if (r.major >= 0)
            block.push_back(jneK(4, static_cast<int32_t>(r.major), 0));
        if (r.minor >= 0)
            block.push_back(jneK(5, static_cast<int32_t>(r.minor), 0));
        block.push_back(aluK(BPF_MOV, 0, 1));
        block.push_back(exitInsn());
        for (size_t i = 0; i < block.size(); ++i) {
            if (block[i].code == (BPF_JMP | BPF_JNE | BPF_K))
                block[i].off = static_cast<int16_t>(block.size() - i - 1);
        }
        p.insert(p.end(), block.begin(), block.end());
        // A rule without tests allows everything; whatever followed would
        // be unreachable, which the verifier rejects.
        if (block.size() == 2)
            return p;
    }
    p.push_back(aluK(BPF_MOV, 0, 0));
    p.push_back(exitInsn());
    return p;
}

void attachDeviceProgram(const std::string& dir, const std::vector<DeviceRule>& allow)
{
    auto prog = buildDeviceProgram(allow);

    static const char license[] = "GPL";
    auto load = [&](char* log, uint32_t logSize) {
        union bpf_attr attr;
        std::memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insn_cnt = static_cast<uint32_t>(prog.size());
        attr.insns = reinterpret_cast<uintptr_t>(prog.data());
        attr.license = reinterpret_cast<uintptr_t>(license);
        if (log) {
            attr.log_buf = reinterpret_cast<uintptr_t>(log);
            attr.log_size = logSize;
            attr.log_level = 1;
        }
        return static_cast<int>(bpfCall(BPF_PROG_LOAD, &attr));
    };
    // No verifier log on the way that should succeed: a log too small for
    // the verifier's chatter turns success into ENOSPC.
    Fd progFd(load(nullptr, 0));
    if (progFd.get() < 0) {
        int err = errno;
        std::vector<char> log(1 << 16, '\0');
        Fd again(load(log.data(), static_cast<uint32_t>(log.size())));
        std::string text(log.data());
        while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
            text.pop_back();
        // The reason is at the end of the log.
        if (text.size() > 300)
            text = "..." + text.substr(text.size() - 300);
        std::string why = text.empty() ? "" : " (verifier: " + text + ")";
        throw Error::system(err, "Unable to load the device BPF program for '" + dir + "'" + why,
                            VIR_FROM_CGROUP);
    }

    union bpf_attr attr;
    Fd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (cg.get() < 0)
        throw Error::system(errno, "Unable to open cgroup '" + dir + "'", VIR_FROM_CGROUP);

    std::memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(cg.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(progFd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpfCall(BPF_PROG_ATTACH, &attr) < 0)
        throw Error::system(errno, "Unable to attach the device BPF program to '" + dir + "'",
                            VIR_FROM_CGROUP);

    uint32_t mine = progId(progFd.get());
    uint32_t ids[64];
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(cg.get());
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids);
    attr.query.prog_cnt = 64;
    if (bpfCall(BPF_PROG_QUERY, &attr) < 0)
        throw Error::system(errno, "Unable to list the device BPF programs of '" + dir + "'",
                            VIR_FROM_CGROUP);
    uint32_t count = std::min<uint32_t>(attr.query.prog_cnt, 64);
    for (uint32_t i = 0; i < count; ++i) {
        if (ids[i] == mine)
            continue;
        union bpf_attr get;
        std::memset(&get, 0, sizeof get);
        get.prog_id = ids[i];
        Fd old(static_cast<int>(bpfCall(BPF_PROG_GET_FD_BY_ID, &get)));
        if (old.get() < 0)
            continue;  // detached meanwhile
        union bpf_attr det;
        std::memset(&det, 0, sizeof det);
        det.target_fd = static_cast<uint32_t>(cg.get());
        det.attach_bpf_fd = static_cast<uint32_t>(old.get());
        det.attach_type = BPF_CGROUP_DEVICE;
        if (bpfCall(BPF_PROG_DETACH, &det) < 0 && errno != ENOENT)
            throw Error::system(errno, "Unable to detach an old device BPF program from '" + dir + "'",
                                VIR_FROM_CGROUP);
    }
}

}  // namespace lxvirt::cgroup::detail
