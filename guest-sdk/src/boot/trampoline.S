/* AP trampoline: the real-mode code an application processor starts in after its SIPI. */
#include <guest/boot_layout.h>

/*
 * Copied at run time to a free page below 1 MiB (the SIPI vector is that page number). It is position
 * independent: it addresses its own data relative to CS, and leaves for ap_entry32, an absolute
 * address in the kernel image below 4 GiB.
 */
    .section .rodata.ap_trampoline, "a"
    .code16
    .globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl ap_trampoline_gdtr - ap_trampoline_start
    mov %cr0, %eax
    or $1, %eax                       /* CR0.PE */
    mov %eax, %cr0
    ljmpl $GUEST_CODE32_SELECTOR, $ap_entry32
    .balign 8
ap_trampoline_gdtr:
    .word GUEST_GDT_ENTRIES * 8 - 1
    .long boot_gdt
ap_trampoline_end:
    .code64

    .section .note.GNU-stack, "", @progbits
