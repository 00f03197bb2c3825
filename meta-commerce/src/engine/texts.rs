//! What the pipeline says to buyers, in Spanish, English and Portuguese.
//!
//! Public replies never carry prices or links (they are visible to everyone and a
//! price under a comment invites haggling and scams); the summary, the total and the
//! payment link go by private reply or message. `{payment_link}` is a placeholder the
//! dispatcher fills right before sending, so the link always matches the order's
//! current contents.

use crate::classify::Lang;
use crate::money::Money;
use crate::store::{Order, Shop};

/// The placeholder the dispatcher replaces with the order's payment link.
pub use crate::dispatch::PAYMENT_LINK_PLACEHOLDER as LINK_PLACEHOLDER;

/// The language for messages not tied to a comment, from the shop's country.
pub(crate) fn shop_lang(shop: &Shop) -> Lang {
    match shop.country.as_str() {
        "BR" | "PT" => Lang::Pt,
        "US" | "GB" | "CA" | "AU" | "NZ" | "IE" => Lang::En,
        _ => Lang::Es,
    }
}

/// The comment's language, or the shop's when unknown.
pub(crate) fn pick(lang: Lang, shop: &Shop) -> Lang {
    if lang == Lang::Unknown {
        shop_lang(shop)
    } else {
        lang
    }
}

/// First name only: public replies should not repeat a full name.
pub(crate) fn first_name(name: Option<&str>) -> String {
    name.and_then(|n| n.split_whitespace().next())
        .unwrap_or("")
        .to_owned()
}

fn hi(name: &str, lang: Lang) -> String {
    match (name.is_empty(), lang) {
        (true, Lang::En) => "Hi".to_owned(),
        (true, Lang::Pt) => "Oi".to_owned(),
        (true, _) => "Hola".to_owned(),
        (false, Lang::En) => format!("Hi {name}"),
        (false, Lang::Pt) => format!("Oi {name}"),
        (false, _) => format!("Hola {name}"),
    }
}

/// Public: items reserved (maybe part waitlisted).
pub(crate) fn public_reserved(name: &str, lang: Lang, partly_waitlisted: bool) -> String {
    let base = match lang {
        Lang::En => format!("Got it {name}! Reserved for you 🛍️ Check your private message 📩"),
        Lang::Pt => {
            format!("Anotado, {name}! Reservado pra você 🛍️ Confira sua mensagem privada 📩")
        }
        _ => format!("¡Listo {name}! Te lo reservamos 🛍️ Revisa tu mensaje privado 📩"),
    };
    if !partly_waitlisted {
        return base;
    }
    match lang {
        Lang::En => format!("{base} (part of it is on the waitlist)"),
        Lang::Pt => format!("{base} (uma parte ficou na lista de espera)"),
        _ => format!("{base} (una parte quedó en lista de espera)"),
    }
}

/// Public: nothing left, on the waitlist.
pub(crate) fn public_waitlisted(name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{name}, it's sold out for now: you're on the waitlist ⏳ We'll let you know if it frees up"
        ),
        Lang::Pt => format!(
            "{name}, esgotou por enquanto: você está na lista de espera ⏳ Avisamos se liberar"
        ),
        _ => format!(
            "{name}, se agotó por ahora: quedaste en lista de espera ⏳ Te avisamos si se libera"
        ),
    }
}

/// Public: "did you mean …?" with lot numbers and names, never prices.
pub(crate) fn public_did_you_mean(name: &str, lang: Lang, options: &[String]) -> String {
    let list = match lang {
        Lang::En => options.join(" or "),
        Lang::Pt => options.join(" ou "),
        _ => options.join(" o "),
    };
    match lang {
        Lang::En => format!("{name}, did you mean {list}? Reply with the lot number 🙌"),
        Lang::Pt => format!("{name}, você quis dizer {list}? Responda com o número do lote 🙌"),
        _ => format!("{name}, ¿te refieres a {list}? Responde con el número de lote 🙌"),
    }
}

/// Public: too many units asked in one comment.
pub(crate) fn public_too_many(name: &str, lang: Lang, max: u32) -> String {
    match lang {
        Lang::En => format!("{name}, the limit is {max} units per item per comment 🙏"),
        Lang::Pt => format!("{name}, o limite é {max} unidades por produto em cada comentário 🙏"),
        _ => format!("{name}, el máximo es {max} unidades por producto en cada comentario 🙏"),
    }
}

/// Public: a cancel done.
pub(crate) fn public_cancelled(name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Done {name}, cancelled ✅"),
        Lang::Pt => format!("Pronto {name}, cancelado ✅"),
        _ => format!("Listo {name}, cancelado ✅"),
    }
}

fn summary_lines(order: &Order) -> String {
    let mut out = String::new();
    for l in &order.lines {
        let price = Money::new(
            l.unit_price_minor.saturating_mul(i64::from(l.qty)),
            order.currency,
        );
        out.push_str(&format!("• {} × {} — {price}\n", l.qty, l.name));
    }
    out
}

fn total(order: &Order) -> Money {
    Money::new(order.total_minor, order.currency)
}

fn minutes_left(order: &Order, now_ms: i64) -> i64 {
    ((order.hold_expires_at_ms - now_ms).max(0) + 59_999) / 60_000
}

/// Short order reference for humans.
pub(crate) fn order_ref(order_id: &str) -> String {
    let tail: String = order_id
        .chars()
        .rev()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect();
    tail.chars().rev().collect::<String>().to_uppercase()
}

/// Private: the order summary with the payment link placeholder.
pub(crate) fn private_summary(
    name: &str,
    lang: Lang,
    shop: &Shop,
    order: &Order,
    waitlisted: &[(String, u32)],
    now_ms: i64,
) -> String {
    let mins = minutes_left(order, now_ms);
    let r = order_ref(&order.id);
    let lines = summary_lines(order);
    let t = total(order);
    let mut wait = String::new();
    for (n, q) in waitlisted {
        wait.push_str(&match lang {
            Lang::En => format!("⏳ Waitlist: {q} × {n}\n"),
            Lang::Pt => format!("⏳ Lista de espera: {q} × {n}\n"),
            _ => format!("⏳ Lista de espera: {q} × {n}\n"),
        });
    }
    let h = hi(name, lang);
    match lang {
        Lang::En => format!(
            "{h}! Your order {r} at {}:\n{lines}{wait}Total: {t}\nWe hold it for {mins} min. Pay here: {LINK_PLACEHOLDER}",
            shop.name
        ),
        Lang::Pt => format!(
            "{h}! Seu pedido {r} na {}:\n{lines}{wait}Total: {t}\nGuardamos por {mins} min. Pague aqui: {LINK_PLACEHOLDER}",
            shop.name
        ),
        _ => format!(
            "{h}! Tu pedido {r} en {}:\n{lines}{wait}Total: {t}\nTe lo guardamos {mins} min. Paga aquí: {LINK_PLACEHOLDER}",
            shop.name
        ),
    }
}

/// Private (on the waitlisted comment) or message: units freed up for the buyer.
pub(crate) fn promoted(
    lang: Lang,
    shop: &Shop,
    order: &Order,
    sku_name: &str,
    qty: u32,
    now_ms: i64,
) -> String {
    let mins = minutes_left(order, now_ms);
    let t = total(order);
    match lang {
        Lang::En => format!(
            "Good news! {qty} × {sku_name} freed up and is now reserved for you at {}. Order total {t}, held {mins} min. Pay here: {LINK_PLACEHOLDER}",
            shop.name
        ),
        Lang::Pt => format!(
            "Boa notícia! {qty} × {sku_name} liberou e está reservado pra você na {}. Total {t}, guardado por {mins} min. Pague aqui: {LINK_PLACEHOLDER}",
            shop.name
        ),
        _ => format!(
            "¡Buenas noticias! Se liberó {qty} × {sku_name} y quedó reservado para ti en {}. Total {t}, te lo guardamos {mins} min. Paga aquí: {LINK_PLACEHOLDER}",
            shop.name
        ),
    }
}

/// Message: the hold ran out.
pub(crate) fn expired(lang: Lang, order: &Order) -> String {
    let r = order_ref(&order.id);
    match lang {
        Lang::En => format!(
            "Your reservation {r} expired and the items were released. Comment again on the live if you still want them!"
        ),
        Lang::Pt => format!(
            "Sua reserva {r} expirou e os produtos foram liberados. Comente de novo na live se ainda quiser!"
        ),
        _ => format!(
            "Tu reserva {r} expiró y liberamos los productos. ¡Comenta de nuevo en el live si aún los quieres!"
        ),
    }
}

/// Message: payment received.
pub(crate) fn paid(lang: Lang, order: &Order) -> String {
    let r = order_ref(&order.id);
    let t = total(order);
    match lang {
        Lang::En => format!("Payment received for order {r} ({t}). Thank you! 🎉"),
        Lang::Pt => format!("Pagamento recebido do pedido {r} ({t}). Obrigado! 🎉"),
        _ => format!("¡Pago recibido del pedido {r} ({t})! Gracias 🎉"),
    }
}

/// Message: money arrived but the stock is gone.
pub(crate) fn refund_due(lang: Lang, order: &Order) -> String {
    let r = order_ref(&order.id);
    match lang {
        Lang::En => format!(
            "We received your payment for {r}, but the reservation had expired and the items were sold. We'll refund you in full; sorry!"
        ),
        Lang::Pt => format!(
            "Recebemos seu pagamento do {r}, mas a reserva tinha expirado e os produtos foram vendidos. Vamos devolver o valor total, desculpe!"
        ),
        _ => format!(
            "Recibimos tu pago del pedido {r}, pero la reserva había expirado y los productos se vendieron. Te devolveremos el total, ¡disculpa!"
        ),
    }
}

/// Message: the hold is about to end.
pub(crate) fn reminder(lang: Lang, order: &Order, now_ms: i64) -> String {
    let r = order_ref(&order.id);
    let mins = minutes_left(order, now_ms);
    match lang {
        Lang::En => format!(
            "Reminder: your order {r} is held for {mins} more min. Pay here: {LINK_PLACEHOLDER}"
        ),
        Lang::Pt => format!(
            "Lembrete: seu pedido {r} fica guardado por mais {mins} min. Pague aqui: {LINK_PLACEHOLDER}"
        ),
        _ => format!(
            "Recordatorio: tu pedido {r} queda reservado {mins} min más. Paga aquí: {LINK_PLACEHOLDER}"
        ),
    }
}

/// A product's name for "did you mean": `#3 Polera roja talla L`.
pub(crate) fn option_label(lot: Option<u32>, name: &str) -> String {
    match lot {
        Some(l) => format!("#{l} {name}"),
        None => name.to_owned(),
    }
}
