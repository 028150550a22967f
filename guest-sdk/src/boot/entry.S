/* PVH entry: the Xen ELF note, the 32-bit entry, identity page tables and the switch to long mode. */
#include <xen/elfnote.h>
#include <guest/boot_layout.h>

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_NE (1 << 5)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_LARGE 0x80
/* 2 MiB pages from 3 GiB up are mapped uncached: that is where the LAPIC and device MMIO live. */
#define UNCACHED_FIRST_2M_PAGE (0xc0000000 >> 21)
#define IDENTITY_2M_PAGES 2048

/*
 * PVH ABI (Xen docs/misc/pvh.pandoc): the loader finds the 32-bit physical entry in this note.
 * QEMU reads the descriptor of a 64-bit ELF as a 64-bit word; the empty note that follows keeps its
 * upper half zero while the entry itself stays the 4-byte form the ABI describes.
 */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                           /* namesz: "Xen\0" */
    .long 4                           /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_entry
    .long 0, 0, 0                     /* empty note: namesz 0, descsz 0, type 0 */

    .section .text.boot, "ax"
    .code32
/*
 * PVH state: 32-bit protected mode, paging off, flat segments, ebx = start info. No GDT is
 * guaranteed valid, so ours is loaded before any segment register is touched.
 */
    .globl pvh_entry
pvh_entry:
    cli
    cld
    mov %ebx, %esi                    /* start info address, kept in esi until C++ takes it */
    lgdt boot_gdtr
    mov $GUEST_DATA_SELECTOR, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    ljmp $GUEST_CODE32_SELECTOR, $1f
1:
    /*
     * No .bss clearing and no page-table loop: a PVH loader zero-fills p_memsz beyond p_filesz (ELF
     * loading semantics; tilehv and QEMU both do), and the identity map below is built by the
     * assembler. Where guest instructions are emulated, a rep stosb over a megabyte of stacks alone
     * took a third of a second.
     */
    xor %edi, %edi                    /* edi = 0: this is the boot CPU */
    jmp enter_long_mode

/* Application processors arrive here from the real-mode trampoline, with our GDT already loaded. */
    .globl ap_entry32
ap_entry32:
    mov $GUEST_DATA_SELECTOR, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    mov $1, %edi                      /* edi = 1: an application processor */

/* Shared by every CPU: page tables on, SSE on, long mode on. Uses no stack. */
enter_long_mode:
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $~(CR0_EM | CR0_TS | CR0_CD | CR0_NW), %eax
    or $(CR0_PG | CR0_PE | CR0_MP | CR0_NE), %eax
    mov %eax, %cr0
    ljmp $GUEST_CODE64_SELECTOR, $long_mode_entry

    .code64
long_mode_entry:
    mov $GUEST_DATA_SELECTOR, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    fninit
    xor %ebp, %ebp
    test %edi, %edi
    jnz ap_long_mode

    /* Boot CPU: slot 0 of the CPU stacks; boot_main(start_info_address). */
    lea cpu_stacks + GUEST_CPU_STACK_SIZE(%rip), %rsp
    mov %esi, %edi
    call boot_main
    jmp park

ap_long_mode:
    /* Each AP takes the next CPU index on arrival, so no APIC id numbering is assumed. */
    mov $1, %eax
    lock xadd %eax, ap_next_index(%rip)
    cmp $GUEST_MAX_CPUS, %eax
    jae park
    mov %eax, %edi                    /* ap_main(index) */
    lea 1(%rax), %rcx
    imul $GUEST_CPU_STACK_SIZE, %rcx
    lea cpu_stacks(%rip), %rsp
    add %rcx, %rsp
    call ap_main
park:
    cli
    hlt
    jmp park

    .section .data
    .balign 16
    .globl boot_gdt, boot_gdt_end
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff          /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff          /* 0x10: flat data */
    .quad 0x00cf9a000000ffff          /* 0x18: flat 32-bit code */
    .fill 2 * GUEST_MAX_CPUS, 8, 0    /* TSS descriptors, filled in by each CPU */
boot_gdt_end:
    .balign 8
    .globl boot_gdtr
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt
    .balign 4
    .globl ap_next_index
ap_next_index:
    .long 1                           /* index 0 is the boot CPU */

    /*
     * Identity map of the first 4 GiB with 2 MiB pages, prebuilt in the image: PML4[0] -> PDPT[0..3]
     * -> four page directories. Pages from 3 GiB up (LAPIC, device MMIO) are uncached.
     */
    .section .data.page_tables, "aw"
    .balign 4096
boot_pml4:
    .quad boot_pdpt + (PTE_PRESENT | PTE_WRITE)
    .fill 511, 8, 0
boot_pdpt:
    .quad boot_page_directories + 0x0000 + (PTE_PRESENT | PTE_WRITE)
    .quad boot_page_directories + 0x1000 + (PTE_PRESENT | PTE_WRITE)
    .quad boot_page_directories + 0x2000 + (PTE_PRESENT | PTE_WRITE)
    .quad boot_page_directories + 0x3000 + (PTE_PRESENT | PTE_WRITE)
    .fill 508, 8, 0
boot_page_directories:
    .set page, 0
    .rept IDENTITY_2M_PAGES
    .quad (page << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE | (((page >= UNCACHED_FIRST_2M_PAGE) & 1) * (PTE_PCD | PTE_PWT))
    .set page, page + 1
    .endr

    .section .bss
    .balign 4096
    .globl cpu_stacks
cpu_stacks:
    .skip GUEST_MAX_CPUS * GUEST_CPU_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
