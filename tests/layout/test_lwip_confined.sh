#!/bin/bash
# lwIP's internals are touched in lwip-port/ only (tcp_ext.h states the
# contract): no file of the library or the program includes lwip/priv/ or
# names a pcb's private lists, flags or window bookkeeping. Public pcb
# members the raw API documents (addresses, ports) stay allowed.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
pattern='lwip/priv/|tcp_active_pcbs|tcp_tw_pcbs|tcp_listen_pcbs|->unsent|->unacked|->ooseq|TF_ACK_DELAY|TF_ACK_NOW|tcp_ack_now|tcp_enqueue_flags|->rcv_ann_wnd|->snd_lbb|->snd_wnd_max|->snd_queuelen|->callback_arg'
if grep -rnE "$pattern" "$root/lib" "$root/tun2socks"; then
    echo "lwIP internals used outside lwip-port/ (move them to tcp_ext)" >&2
    exit 1
fi
echo "lwIP internals confined to lwip-port/"
