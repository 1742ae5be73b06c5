// A table whose rows live on the server: one page at a time, sorted and filtered by the API,
// so it stays as fast with 10,000 VENs as with ten.

import { type Child, fill, h } from "./dom";

export interface Column<R> {
  key: string;
  label: string;
  cell: (row: R) => Child;
  /** The API's `sort` name for this column, when the API can sort by it. */
  sort?: string;
  numeric?: boolean;
}

export interface Query {
  offset: number;
  limit: number;
  sort: string | null;
  status: string;
  q: string;
}

export interface Rows<R> {
  rows: R[];
  /** Rows matching the filters, when the API says; else only whether a next page exists. */
  total: number | null;
  hasNext: boolean;
}

export interface TableOptions<R> {
  columns: Column<R>[];
  load: (query: Query) => Promise<Rows<R>>;
  rowKey: (row: R) => string;
  empty: string;
  pageSize?: number;
  defaultSort?: string;
  statuses?: string[];
  search?: string;
  label: string;
}

export class PagedTable<R> {
  readonly root: HTMLElement;
  private readonly body = h("tbody");
  private readonly head = h("tr");
  private readonly footer = h("div", { class: "pager" });
  private readonly query: Query;
  private loaded = false;

  constructor(private readonly opts: TableOptions<R>) {
    this.query = { offset: 0, limit: opts.pageSize ?? 50, sort: opts.defaultSort ?? null, status: "", q: "" };
    const filters = h("div", { class: "filters" });
    if (opts.statuses) {
      const select = h(
        "select",
        { "aria-label": `${opts.label} status filter`, onchange: (e: Event) => this.set({ status: (e.target as HTMLSelectElement).value }) },
        h("option", { value: "" }, "any status"),
        ...opts.statuses.map((s) => h("option", { value: s }, s)),
      );
      filters.append(select);
    }
    if (opts.search) {
      let pending: number | undefined;
      filters.append(
        h("input", {
          type: "search",
          placeholder: opts.search,
          "aria-label": opts.search,
          maxlength: 100,
          oninput: (e: Event) => {
            window.clearTimeout(pending);
            const q = (e.target as HTMLInputElement).value.trim();
            pending = window.setTimeout(() => this.set({ q }), 250);
          },
        }),
      );
    }
    this.drawHead();
    this.body.append(h("tr", {}, h("td", { colspan: opts.columns.length, class: "muted" }, "Loading…")));
    this.root = h(
      "div",
      { class: "table-block" },
      filters,
      h("div", { class: "scroll" }, h("table", { "aria-label": opts.label }, h("thead", {}, this.head), this.body)),
      this.footer,
    );
  }

  async refresh(): Promise<void> {
    const { rows, total, hasNext } = await this.opts.load({ ...this.query });
    this.loaded = true;
    this.drawRows(rows);
    this.drawPager(rows.length, total, hasNext);
  }

  private set(change: Partial<Query>): void {
    Object.assign(this.query, { offset: 0 }, change);
    this.drawHead();
    void this.refresh().catch((err: Error) => this.showError(err));
  }

  private showError(err: Error): void {
    fill(this.body, h("tr", {}, h("td", { colspan: this.opts.columns.length, class: "error" }, err.message)));
  }

  private drawHead(): void {
    const current = this.query.sort;
    fill(
      this.head,
      ...this.opts.columns.map((col) => {
        if (!col.sort) return h("th", { class: col.numeric ? "num" : null }, col.label);
        const asc = current === col.sort;
        const desc = current === `-${col.sort}`;
        const next = asc ? `-${col.sort}` : col.sort;
        return h(
          "th",
          { class: col.numeric ? "num" : null, "aria-sort": asc ? "ascending" : desc ? "descending" : "none" },
          h("button", { class: "sort", type: "button", onclick: () => this.set({ sort: next }) }, col.label, asc ? " ▲" : desc ? " ▼" : ""),
        );
      }),
    );
  }

  private drawRows(rows: R[]): void {
    if (!rows.length) {
      const text = this.query.q || this.query.status ? "Nothing matches these filters." : this.opts.empty;
      fill(this.body, h("tr", {}, h("td", { colspan: this.opts.columns.length, class: "muted" }, text)));
      return;
    }
    fill(
      this.body,
      ...rows.map((row) =>
        h(
          "tr",
          { "data-key": this.opts.rowKey(row) },
          ...this.opts.columns.map((col) => h("td", { class: col.numeric ? "num" : null, "data-col": col.key }, col.cell(row))),
        ),
      ),
    );
  }

  private drawPager(shown: number, total: number | null, hasNext: boolean): void {
    const first = this.query.offset + 1;
    const last = this.query.offset + shown;
    const of = total === null ? "" : ` of ${total.toLocaleString()}`;
    const range = shown ? `rows ${first.toLocaleString()}–${last.toLocaleString()}${of}` : "no rows";
    fill(
      this.footer,
      h("span", { class: "muted" }, range),
      h("button", { type: "button", disabled: this.query.offset === 0, onclick: () => this.page(-1) }, "‹ previous"),
      h("button", { type: "button", disabled: !hasNext, onclick: () => this.page(1) }, "next ›"),
    );
  }

  private page(direction: number): void {
    if (!this.loaded) return;
    this.query.offset = Math.max(0, this.query.offset + direction * this.query.limit);
    void this.refresh().catch((err: Error) => this.showError(err));
  }
}

/** Rows of a list endpoint that pages with `X-Next-Offset` and no total. */
export function nextOffsetRows<R>(rows: R[], headers: Headers): Rows<R> {
  return { rows, total: null, hasNext: headers.has("X-Next-Offset") };
}
