// Device access control on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
// built from the allow-list, loaded and attached with the raw bpf(2) syscall.
#pragma once

#include "driver/cgroup/cgroup.h"

#include <linux/bpf.h>

#include <string>
#include <vector>

namespace lxvirt::cgroup::detail {

// Hand-assembled program (struct bpf_insn, include/uapi/linux/bpf.h):
//
//   The context is struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
//   u32 minor; } where access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
//   (ACC_MKNOD 1, ACC_READ 2, ACC_WRITE 4; DEV_BLOCK 1, DEV_CHAR 2).
//   Return 1 allows the access, 0 denies it.
//
//   prologue (6 insns), r1 = ctx:
//     r2 = *(u32 *)(r1 + 0)      BPF_LDX|BPF_W|BPF_MEM
//     r2 &= 0xffff               BPF_ALU64|BPF_AND|BPF_K   -> device type
//     r3 = *(u32 *)(r1 + 0)
//     r3 >>= 16                  BPF_ALU64|BPF_RSH|BPF_K   -> access bits
//     r4 = *(u32 *)(r1 + 4)                                -> major
//     r5 = *(u32 *)(r1 + 8)                                -> minor
//   one block per rule; each test jumps to the next block on mismatch:
//     if r2 != TYPE goto next    BPF_JMP|BPF_JNE|BPF_K     (omitted for 'a')
//     r0 = r3                    BPF_ALU64|BPF_MOV|BPF_X   \ omitted when
//     r0 &= ~ACCESS & 7          BPF_ALU64|BPF_AND|BPF_K    > access is
//     if r0 != 0 goto next       BPF_JMP|BPF_JNE|BPF_K     /  all of "rwm"
//     if r4 != MAJOR goto next                             (omitted for *)
//     if r5 != MINOR goto next                             (omitted for *)
//     r0 = 1                     BPF_ALU64|BPF_MOV|BPF_K
//     exit                       BPF_JMP|BPF_EXIT
//   epilogue (2 insns): r0 = 0; exit
//   A rule with no test at all ('a *:* rwm') ends the program right after
//   its "r0 = 1; exit": the verifier refuses unreachable instructions.
//
// Throws VIR_ERR_INVALID_ARG for a bad rule.
std::vector<struct bpf_insn> buildDeviceProgram(const std::vector<DeviceRule>& allow);

// Loads the program and attaches it to the cgroup directory `dir`
// (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI so nested cgroups can add their
// own), then detaches any device program attached earlier to the same
// cgroup, so the new list replaces the old one without a gap.
void attachDeviceProgram(const std::string& dir, const std::vector<DeviceRule>& allow);

}  // namespace lxvirt::cgroup::detail
