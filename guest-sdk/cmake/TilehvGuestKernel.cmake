# Placeholder: replaced by the guest SDK's real kernel-building function.
function(tilehv_add_guest_kernel)
endfunction()
