/* Boot layout: constants shared by the assembly boot path and the C++ SDK. */
#pragma once

/* Most vCPUs a guest kernel supports; per-CPU data and stacks are sized statically for it. */
#define GUEST_MAX_CPUS 64
/* Kernel stack of every CPU. */
#define GUEST_CPU_STACK_SIZE 16384

/* GDT selectors; the TSS descriptors of the CPUs follow the fixed entries, two slots each. */
#define GUEST_CODE64_SELECTOR 0x08
#define GUEST_DATA_SELECTOR 0x10
#define GUEST_CODE32_SELECTOR 0x18
#define GUEST_FIRST_TSS_SLOT 4
#define GUEST_GDT_ENTRIES (GUEST_FIRST_TSS_SLOT + 2 * GUEST_MAX_CPUS)
