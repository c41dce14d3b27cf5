// An API handler for /orders: GET lists or reads orders, POST creates one.
// The input is the request as the gateway passes it: method, path, params
// and body.
policy orders_api(method: string, path: string, params?: object, body?: object) {
    if method == "GET" {
        if params != null && has(params, "id") {
            let order = store_get("orders", params.id)
            if order == null {
                return {status: 404, error: "no such order"}
            }
            return {status: 200, order: order}
        }
        return {status: 200, orders: store_list_keys("orders", "o-", 20)}
    }
    require method == "POST", "method not allowed"
    require body != null && has(body, "item") && has(body, "quantity"),
        "body needs item and quantity"
    require body.quantity >= 1 && body.quantity == floor(body.quantity),
        "quantity must be a whole number of at least 1"
    // reliable callers may order up to 100 at once, everybody else 5
    let limit = trust.r >= 0.8 ? 100 : 5
    require body.quantity <= limit, "quantity above the limit for your trust level"
    let id = "o-" + (store_count("orders") + 1)
    store_put("orders", id, {item: body.item, quantity: body.quantity, by: caller})
    emit "order_created", {order: id, quantity: body.quantity}
    return {status: 201, order: id}
}
