// A spending limit: the caller's balance must cover the amount, and what
// they spent today (their personal store "spent") plus the amount must stay
// under the realm's daily limit (shared store "limits", default 500).  A
// passing run records the new total and emits an event.
const DEFAULT_DAILY = 500

policy spending_limit(amount: number, day: string) {
    require amount > 0, "amount must be positive"
    require get_balance(caller) >= amount, "insufficient balance"
    let daily = store_get("limits", "daily")
    if daily == null {
        daily = DEFAULT_DAILY
    }
    let spent = store_get("spent", day, true)
    if spent == null {
        spent = 0
    }
    require spent + amount <= daily, "daily limit exceeded"
    store_put("spent", day, spent + amount, true)
    emit "spent", {amount: amount, day: day, total: spent + amount}
    return {spent_today: spent + amount, left_today: daily - spent - amount}
}
