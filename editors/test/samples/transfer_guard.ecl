// A transfer limit that grows with the caller's reliability.
/* Program constants are folded into the bytecode. */
const MAX = 10000

policy transfer_guard {
    const MIN = 0.5
    require trust.r >= MIN, "reliability too low"
    let limit = trust.r * MAX
    require amount <= limit, "amount exceeds trust-based limit"
    if amount > 5000 {
        require has_credential(caller, "kyc-level-2"), "KYC required"
    } else if amount > 1000 {
        log("medium transfer")
    } else {
        emit "small_transfer", {amount: amount, "to": recipient}
    }
    return true
}
