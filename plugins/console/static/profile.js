// The customer panel: editable profile (name, tags, VIP, stage, notes), identities, orders, history.
import { api } from "./api.js";
import { h, $, toast } from "./dom.js";
import { t, clock, stateName } from "./i18n.js";

const STAGES = ["presale", "ordered", "aftersale"];

function orderLine(order) {
  if (typeof order !== "object" || order === null) return h("li", {}, String(order));
  const id = order.id ?? order.order_id ?? order.no ?? "";
  const amount = order.total ?? order.amount ?? order.price;
  const known = [id && `#${id}`, order.status, amount != null && `¥${amount}`, order.title || order.item, order.created_at && clock(order.created_at)];
  const text = known.filter(Boolean).join(" · ") || JSON.stringify(order);
  return h("li", {}, text);
}

export function renderProfile(customer) {
  const aside = $("#profile");
  if (!customer) {
    aside.replaceChildren();
    return;
  }
  const form = h("form", { class: "profile-form" },
    h("label", {}, t("name"), h("input", { name: "name", value: customer.name || "" })),
    h("label", {}, `${t("tags")} (${t("tagsHint")})`, h("input", { name: "tags", value: (customer.tags || []).join(", ") })),
    h("div", { class: "row" },
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "vip", checked: Boolean(customer.vip) }), t("vip")),
      h("label", {}, t("state"), h("select", { name: "state" },
        h("option", { value: "" }, "—"),
        STAGES.map((stage) => h("option", { value: stage, selected: customer.state === stage }, t(stage)))))),
    h("label", {}, t("notes"), h("textarea", { name: "notes", rows: "3" }, customer.notes || "")),
    h("button", { type: "submit", class: "primary" }, t("save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: form.name.value.trim(),
      tags: form.tags.value.split(/[,，]/).map((tag) => tag.trim()).filter(Boolean),
      vip: form.vip.checked,
      notes: form.notes.value,
    };
    if (form.state.value) body.state = form.state.value;
    try {
      renderProfile(await api("PATCH", `/customers/${customer.id}`, body));
      toast(t("saved"));
    } catch (error) {
      toast(error.message, "error");
    }
  });
  aside.replaceChildren(
    h("h2", {}, t("profile"), customer.vip ? h("span", { class: "vip" }, "VIP") : null),
    h("div", { class: "tags" }, (customer.tags || []).map((tag) => h("span", { class: "tag" }, tag))),
    form,
    h("h3", {}, t("identities")),
    h("ul", { class: "plain" }, (customer.identities || []).map((identity) =>
      h("li", {}, `${identity.channel}/${identity.account}: ${identity.profile?.nickname || identity.profile?.name || identity.platform_user_id}`
        + (identity.profile?.contact ? ` · ${identity.profile.contact}` : "")))),  // a left message's phone or WeChat ID
    h("h3", {}, t("orders")),
    (customer.orders || []).length ? h("ul", { class: "plain" }, customer.orders.map(orderLine)) : h("p", { class: "small" }, t("nothing")),
    h("h3", {}, t("history")),
    h("ul", { class: "plain history" }, (customer.conversations || []).map((conversation) =>
      h("li", {}, h("a", { href: `#${conversation.id}` },
        `#${conversation.id} ${conversation.channel} · ${stateName(conversation.state)} · ${clock(conversation.opened_at)}`)))));
}
