//! The HTML of the web UI's two views: the status page (`index.html`) and the tail page
//! (`tail.html`), rendered whole on the server so that they work without JavaScript.
//!
//! The pages are ours, not supervisor's templates, but they keep what scripts and people find
//! on supervisor's: the same action links (`index.html?processname=Q&amp;action=stop`), the
//! state spans and their classes (`statusrunning`, `statuserror`, `statusnominal`), the name
//! linking to `tail.html?processname=Q`, the Refresh/Restart All/Stop All buttons, and the
//! tail page's `<pre>` with its Refresh link. `scripts/supervisor.js` then keeps the same DOM
//! live (the `data-*` attributes are its contract).

use super::forms::quote;

/// One process as the status page shows it (from `getAllProcessInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    pub group: String,
    pub name: String,
    pub statename: String,
    pub description: String,
}

impl ProcessRow {
    /// `make_namespec`.
    pub fn namespec(&self) -> String {
        if self.group == self.name {
            self.name.clone()
        } else {
            format!("{}:{}", self.group, self.name)
        }
    }
}

/// What the status page is asked to show.
pub struct StatusPage<'a> {
    /// Sorted by (group, name), as `web.py` sorts them.
    pub rows: &'a [ProcessRow],
    pub message: Option<&'a str>,
    /// The `q` filter (a substring of the name, any case) and the `state` filter.
    pub filter: &'a str,
    pub state: &'a str,
    pub identification: &'a str,
    pub version: &'a str,
}

/// HTML text and attribute escaping (all five characters: our pages are not meld's, whose
/// escaper leaves `>` and entity-like runs alone).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `StatusView.css_class_for_state`.
pub fn state_class(statename: &str) -> &'static str {
    match statename {
        "RUNNING" => "statusrunning",
        "FATAL" | "BACKOFF" => "statuserror",
        _ => "statusnominal",
    }
}

/// The states the filter offers, in supervisor's order.
const STATES: [&str; 8] =
    ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"];

fn head(out: &mut String, title: &str) {
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    out.push_str(&escape(title));
    out.push_str(
        "</title>\n<link href=\"stylesheets/supervisor.css\" rel=\"stylesheet\" \
         type=\"text/css\">\n<link href=\"images/icon.png\" rel=\"icon\" type=\"image/png\">\n\
         </head>\n",
    );
}

fn footer(out: &mut String, version: &str) {
    out.push_str("<footer id=\"footer\"><a href=\"http://supervisord.org\">Supervisor</a> <span>");
    out.push_str(&escape(version));
    out.push_str(
        "</span> &middot; supervisor-rs</footer>\n\
         <script src=\"scripts/supervisor.js\"></script>\n</body>\n</html>\n",
    );
}

/// Whether the filters keep `row`.
pub fn shown(row: &ProcessRow, filter: &str, state: &str) -> bool {
    let name_ok =
        filter.is_empty() || row.namespec().to_lowercase().contains(&filter.to_lowercase());
    name_ok && (state.is_empty() || row.statename.eq_ignore_ascii_case(state))
}

/// The per-process actions `StatusView.actions_for_process` offers, as (label, action).
fn actions_for(statename: &str) -> &'static [(&'static str, &'static str)] {
    match statename {
        "RUNNING" => &[("Restart", "restart"), ("Stop", "stop"), ("Clear Log", "clearlog")],
        "STOPPED" | "EXITED" | "FATAL" => &[("Start", "start"), ("Clear Log", "clearlog")],
        _ => &[("Clear Log", "clearlog")],
    }
}

fn process_row(out: &mut String, row: &ProcessRow, shade: bool) {
    let namespec = row.namespec();
    let q = quote(&namespec);
    let state = row.statename.to_lowercase();
    out.push_str(&format!(
        "<tr class=\"process{}\" data-namespec=\"{}\" data-state=\"{}\">\n\
         <td class=\"status\"><span class=\"{}\">{}</span></td>\n\
         <td class=\"desc\"><span>{}</span></td>\n\
         <td class=\"name\"><a href=\"tail.html?processname={q}\" target=\"_blank\">{}</a></td>\n\
         <td class=\"action\"><ul>",
        if shade { " shade" } else { "" },
        escape(&namespec),
        escape(&state),
        state_class(&row.statename),
        escape(&state),
        escape(&row.description),
        escape(&namespec),
    ));
    for (label, action) in actions_for(&row.statename) {
        out.push_str(&format!(
            "<li><a href=\"index.html?processname={q}&amp;action={action}\" name=\"{label}\" \
             data-action=\"{action}\">{label}</a></li>"
        ));
    }
    out.push_str(&format!(
        "<li><a href=\"logtail/{q}\" name=\"Tail -f Stdout\" target=\"_blank\">Tail -f Stdout</a>\
         </li><li><a href=\"logtail/{q}/stderr\" name=\"Tail -f Stderr\" target=\"_blank\">\
         Tail -f Stderr</a></li></ul></td>\n</tr>\n"
    ));
}

fn group_header(out: &mut String, group: &str, rows: &[&ProcessRow]) {
    let running = rows.iter().filter(|r| r.statename == "RUNNING").count();
    let g = quote(group);
    out.push_str(&format!(
        "<tr class=\"group-row\"><th colspan=\"4\"><span class=\"group-name\">{}</span> \
         <span class=\"counts\">{running} of {} running</span> <span class=\"group-actions\">",
        escape(group),
        rows.len()
    ));
    for (label, action) in
        [("Start all", "startgroup"), ("Stop all", "stopgroup"), ("Restart all", "restartgroup")]
    {
        out.push_str(&format!(
            "<a href=\"index.html?groupname={g}&amp;action={action}\" data-action=\"{action}\">\
             {label}</a> "
        ));
    }
    out.push_str("</span></th></tr>\n");
}

/// The status page.
pub fn status_page(page: &StatusPage<'_>) -> String {
    let mut out = String::with_capacity(4096 + page.rows.len() * 900);
    head(&mut out, "Supervisor Status");
    out.push_str("<body class=\"status-page\">\n<header id=\"header\"><h1>Supervisor</h1>");
    out.push_str(&format!(
        "<span class=\"ident\">{}</span></header>\n<main id=\"wrapper\">\n",
        escape(page.identification)
    ));
    match page.message {
        Some(m) => out.push_str(&format!(
            "<div id=\"message\" class=\"status_msg\" role=\"status\">{}</div>\n",
            escape(m)
        )),
        None => out.push_str("<div id=\"message\" class=\"hidden\" role=\"status\"></div>\n"),
    }
    out.push_str(
        "<div id=\"toolbar\">\n<ul class=\"clr\" id=\"buttons\">\n\
         <li class=\"action-button\"><a href=\"index.html?action=refresh\">Refresh</a></li>\n\
         <li class=\"action-button\"><a href=\"index.html?action=restartall\">Restart All</a></li>\n\
         <li class=\"action-button\"><a href=\"index.html?action=stopall\">Stop All</a></li>\n\
         </ul>\n<form id=\"filters\" action=\"index.html\" method=\"get\">\n",
    );
    out.push_str(&format!(
        "<input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"Filter by name\" \
         aria-label=\"Filter by name\">\n<select name=\"state\" aria-label=\"Filter by state\">\
         <option value=\"\">All states</option>",
        escape(page.filter)
    ));
    for s in STATES {
        let lower = s.to_lowercase();
        let selected = if page.state.eq_ignore_ascii_case(s) { " selected" } else { "" };
        out.push_str(&format!("<option value=\"{lower}\"{selected}>{lower}</option>"));
    }
    out.push_str("</select>\n<button type=\"submit\">Filter</button>\n</form>\n</div>\n");
    if page.rows.is_empty() {
        out.push_str("<p id=\"empty\">No programs to manage</p>\n");
    } else {
        out.push_str(
            "<table id=\"processes\">\n<thead><tr><th class=\"state\">State</th>\
             <th class=\"desc\">Description</th><th class=\"name\">Name</th>\
             <th class=\"action\">Action</th></tr></thead>\n",
        );
        let mut shade = false;
        let mut start = 0;
        while start < page.rows.len() {
            let group = &page.rows[start].group;
            let end = page.rows[start..]
                .iter()
                .position(|r| &r.group != group)
                .map_or(page.rows.len(), |n| start + n);
            let members: Vec<&ProcessRow> = page.rows[start..end].iter().collect();
            let visible: Vec<&&ProcessRow> =
                members.iter().filter(|r| shown(r, page.filter, page.state)).collect();
            if !visible.is_empty() {
                out.push_str(&format!(
                    "<tbody class=\"group\" data-group=\"{}\">\n",
                    escape(group)
                ));
                // A program is a group of its own name: a header would only repeat it.
                if members.iter().any(|r| &r.name != group) {
                    group_header(&mut out, group, &members);
                }
                for row in visible {
                    process_row(&mut out, row, shade);
                    shade = !shade;
                }
                out.push_str("</tbody>\n");
            }
            start = end;
        }
        out.push_str("</table>\n");
        if !page.rows.iter().any(|r| shown(r, page.filter, page.state)) {
            out.push_str("<p id=\"nomatch\">No processes match the filter</p>\n");
        }
    }
    out.push_str("</main>\n");
    footer(&mut out, page.version);
    out
}

/// What the tail page shows.
pub struct TailPage<'a> {
    /// `None` without a `processname`.
    pub processname: Option<&'a str>,
    /// The last bytes of stdout, or the line explaining why there are none.
    pub text: &'a str,
    /// The effective limit, echoed in the Refresh link.
    pub limit: u64,
    pub version: &'a str,
}

/// The tail page.
pub fn tail_page(page: &TailPage<'_>) -> String {
    let mut out = String::with_capacity(2048 + page.text.len() * 11 / 10);
    let shown_name = page.processname.unwrap_or("None");
    head(&mut out, &format!("Supervisor tail of process {shown_name}"));
    let data = page
        .processname
        .map(|n| format!(" data-processname=\"{}\"", escape(n)))
        .unwrap_or_default();
    out.push_str(&format!(
        "<body class=\"tail-page\"{data}>\n<header id=\"header\"><h1>Supervisor</h1>\
         <span class=\"ident\">tail of {}</span></header>\n<main id=\"wrapper\">\n",
        escape(shown_name)
    ));
    out.push_str(&format!(
        "<section class=\"log\" id=\"stdout-log\"><h2>stdout</h2>\n<pre id=\"stdout\">{}</pre>\
         </section>\n<section class=\"log hidden\" id=\"stderr-log\"><h2>stderr</h2>\n\
         <pre id=\"stderr\"></pre></section>\n",
        escape(page.text)
    ));
    if let Some(name) = page.processname {
        out.push_str(&format!(
            "<div id=\"refresh\"><a href=\"tail.html?processname={}&amp;limit={}\">\
             <input name=\"refresh\" type=\"button\" value=\" Refresh \"></a> \
             <a href=\"index.html\">Back to the status page</a></div>\n",
            quote(name),
            page.limit
        ));
    }
    out.push_str("</main>\n");
    footer(&mut out, page.version);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &str, name: &str, state: &str) -> ProcessRow {
        ProcessRow {
            group: group.into(),
            name: name.into(),
            statename: state.into(),
            description: "pid 7, uptime 0:00:01".into(),
        }
    }

    #[test]
    fn status_rows_keep_supervisors_links_and_classes() {
        let rows = [row("grp", "a b", "RUNNING"), row("web", "web", "FATAL")];
        let html = status_page(&StatusPage {
            rows: &rows,
            message: Some("Process <x> started"),
            filter: "",
            state: "",
            identification: "supervisor",
            version: "4.3.0",
        });
        assert!(html.contains("<span class=\"statusrunning\">running</span>"));
        assert!(html.contains("<span class=\"statuserror\">fatal</span>"));
        assert!(html.contains(
            "<a href=\"index.html?processname=grp%3Aa%20b&amp;action=stop\" name=\"Stop\""
        ));
        assert!(html.contains("<a href=\"tail.html?processname=web\" target=\"_blank\">web</a>"));
        assert!(html.contains("Process &lt;x&gt; started"));
        // A real group gets a header with its actions; a program does not.
        assert!(html.contains("index.html?groupname=grp&amp;action=stopgroup"));
        assert!(!html.contains("groupname=web"));
    }

    #[test]
    fn filters_hide_rows_server_side() {
        let rows = [row("grp", "a", "RUNNING"), row("web", "web", "STOPPED")];
        let page = |filter, state| {
            status_page(&StatusPage {
                rows: &rows,
                message: None,
                filter,
                state,
                identification: "s",
                version: "4.3.0",
            })
        };
        let html = page("WE", "");
        assert!(
            html.contains("data-namespec=\"web\"") && !html.contains("data-namespec=\"grp:a\"")
        );
        let html = page("", "running");
        assert!(
            !html.contains("data-namespec=\"web\"") && html.contains("data-namespec=\"grp:a\"")
        );
        assert!(page("zzz", "").contains("No processes match the filter"));
    }

    #[test]
    fn tail_page_escapes_and_links_refresh() {
        let html = tail_page(&TailPage {
            processname: Some("grp:a"),
            text: "<b>&",
            limit: 1024,
            version: "4.3.0",
        });
        assert!(html.contains("<title>Supervisor tail of process grp:a</title>"));
        assert!(html.contains("<pre id=\"stdout\">&lt;b&gt;&amp;</pre>"));
        assert!(html.contains("tail.html?processname=grp%3Aa&amp;limit=1024"));
        let none = tail_page(&TailPage {
            processname: None,
            text: "No process name found",
            limit: 1024,
            version: "4.3.0",
        });
        assert!(none.contains("process None") && !none.contains("id=\"refresh\""));
    }
}
