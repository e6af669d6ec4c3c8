import PaymeshMessages
import PaymeshStore

/// `write <db> <channels>`: pays forever on `channels` channels, one writer task each, all
/// sharing group commits. Prints `resume <i> <nonce> <receiptSeq>` per channel at start, then
/// `ack <i> <nonce>` once voucher `nonce` is durable and `receipt <i> <seq>` once a receipt is.
/// Every 8th voucher is followed by a receipt. Meant to be killed with SIGKILL.
func runCrashWriter(path: String, channels: Int) async {
    let store: ChannelStore
    do { store = try ChannelStore(path: path) } catch { fail("open: \(error)") }
    do {
        let existing = Set(try store.loadChannels().map(\.id))
        for i in 0..<channels where !existing.contains(Fixtures.channelID(i)) {
            try await store.saveChannel(Fixtures.channel(i))
        }
    } catch { fail("setup: \(error)") }

    var resume: [(nonce: UInt64, seq: UInt64)] = []
    do {
        for i in 0..<channels {
            // The payer resumes from the stored latest nonce: never from memory, never reusing one.
            let nonce = try store.channel(Fixtures.channelID(i))?.latestVoucher?.nonce ?? 0
            let seq = try store.receipts(channel: Fixtures.channelID(i)).last?.seq ?? 0
            resume.append((nonce, seq))
            emit("resume \(i) \(nonce) \(seq)")
        }
    } catch { fail("load: \(error)") }

    await withDiscardingTaskGroup { group in
        for i in 0..<channels {
            let start = resume[i]
            group.addTask {
                var nonce = start.nonce
                var seq = start.seq
                while true {
                    nonce += 1
                    do {
                        try await store.recordVoucher(Fixtures.voucher(channel: i, nonce: nonce, timestampMillis: Int64(nonce)))
                    } catch { fail("voucher \(i) \(nonce): \(error)") }
                    emit("ack \(i) \(nonce)")
                    if nonce % 8 == 0 {
                        seq += 1
                        do { try await store.appendReceipt(Fixtures.receipt(channel: i, seq: seq)) } catch {
                            fail("receipt \(i) \(seq): \(error)")
                        }
                        emit("receipt \(i) \(seq)")
                    }
                }
            }
        }
    }
}
