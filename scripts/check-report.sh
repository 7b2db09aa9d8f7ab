#!/usr/bin/env bash
# make check-report: open the report in headless Chromium and fail when a
# reader would see something broken.
#
#   bash scripts/check-report.sh [REPORT_DIR]      (default out/report)
#
# Checks report.html: every <img> decodes (naturalWidth > 0), no script
# error or console.error, every formula typeset by KaTeX (no .katex-error,
# no formula left as TeX, no raw TeX such as \frac or $$ in the page's
# text outside code), every link inside the page (the contents) lands on
# a heading. Saves a full-page screenshot (screenshot.png). Then checks
# report.pdf (printed from report.html when missing or older): it has
# pages and bookmarks, its text holds no raw TeX, and pages 1 and 2 are
# rendered to pdf-page-1.png and pdf-page-2.png for a look. Last it prints
# the main part and the appendices each alone and says how many pages each
# takes; the main part may take at most MAIN_PAGES_MAX (default 15).
# Installs Debian's chromium and poppler-utils when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-out/report}
html=$dir/report.html
pdf=$dir/report.pdf
main_max=${MAIN_PAGES_MAX:-15}
fail=0
problem() { echo "check-report: FAIL: $*" >&2; fail=1; }

[ -f "$html" ] || { echo "check-report: $html does not exist; make demo (or bin/report) writes it" >&2; exit 1; }

install() { # install PACKAGE... with apt, as root or through sudo
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "check-report: installing $*"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "$@" ||
    { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "$@"; }
}
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null; then browser=$b; break; fi
done
if [ -z "$browser" ]; then install chromium; browser=chromium; fi
command -v pdfinfo >/dev/null || install poppler-utils

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chrome() { # chrome ARGS...: headless Chromium with a throw-away profile
  "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$tmp/profile" "$@"
}

# A copy of the page with a probe that, once the page has loaded and KaTeX
# has run, writes what it found into <pre id="torchlab-check">.
probe='<script>
(function(){
  var errs=[];
  window.addEventListener("error",function(e){errs.push("JS_ERROR "+(e.message||("cannot load "+(e.target&&(e.target.src||e.target.tagName)))));},true);
  var ce=console.error;
  console.error=function(){errs.push("CONSOLE_ERROR "+Array.prototype.join.call(arguments," "));return ce.apply(console,arguments);};
  var tex=/\\(mathcal|mathbb|mathrm|operatorname|frac|tfrac|sum|prod|log|exp|mu|sigma|ell|varepsilon|left|right|big|begin|end|text)\b|\$\$|\$[^$\s][^$]*\$/;
  function report(){
    var out=[],i;
    var imgs=document.images;
    out.push("IMAGES "+imgs.length);
    for(i=0;i<imgs.length;i++){if(!imgs[i].complete||imgs[i].naturalWidth===0){out.push("IMG_BROKEN "+(imgs[i].alt||imgs[i].src.slice(0,80)));}}
    var maths=document.querySelectorAll(".math");
    var typeset=0;
    for(i=0;i<maths.length;i++){if(maths[i].querySelector(".katex")){typeset++;}}
    out.push("MATH "+maths.length+" TYPESET "+typeset);
    var links=document.querySelectorAll("a[href^=\"#\"]");
    for(i=0;i<links.length;i++){var id=decodeURIComponent(links[i].getAttribute("href").slice(1));if(id&&!document.getElementById(id)){out.push("BROKEN_LINK "+links[i].getAttribute("href"));}}
    var errsK=document.querySelectorAll(".katex-error");
    for(i=0;i<errsK.length;i++){out.push("KATEX_ERROR "+(errsK[i].getAttribute("title")||errsK[i].textContent).slice(0,160));}
    var w=document.createTreeWalker(document.body,NodeFilter.SHOW_TEXT,null);
    var n;
    while((n=w.nextNode())){
      var p=n.parentElement;
      if(p&&p.closest("code,pre,script,style,.katex,#torchlab-check")){continue;}
      var m=tex.exec(n.nodeValue);
      if(m){out.push("RAW_TEX "+n.nodeValue.trim().slice(0,120).replace(/\s+/g," "));}
    }
    out=out.concat(errs);
    out.push("HEIGHT "+Math.ceil(document.documentElement.scrollHeight));
    var pre=document.createElement("pre");
    pre.id="torchlab-check";
    pre.textContent=out.join("\n");
    document.body.appendChild(pre);
  }
  window.addEventListener("load",function(){setTimeout(report,500);});
})();
</script>'
probed=$tmp/report.html
printf '%s\n' "$probe" > "$tmp/probe.html"
# The probe goes right after <head>, before any other script can fail.
awk -v pf="$tmp/probe.html" '{print} !done && /<head>/ {while ((getline l < pf) > 0) print l; done=1}' "$html" > "$probed"
grep -q 'torchlab-check' "$probed" || { echo "check-report: $html has no <head>" >&2; exit 1; }

echo "check-report: loading $html in $browser"
chrome --enable-logging=stderr --v=0 --virtual-time-budget=20000 --dump-dom "file://$(realpath "$probed")" \
  > "$tmp/dom.html" 2> "$tmp/console.log" || problem "$browser could not load the page (see below)"
sed -n '/<pre id="torchlab-check">/,/<\/pre>/p' "$tmp/dom.html" | sed -e 's/<[^>]*>//g' -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g' > "$tmp/check.txt"
if [ ! -s "$tmp/check.txt" ]; then
  problem "the page's probe did not report (the page did not finish loading within the time budget)"
  tail -20 "$tmp/console.log" >&2
  exit 1
fi

images=$(sed -n 's/^IMAGES //p' "$tmp/check.txt")
read -r _ maths _ typeset < <(grep '^MATH ' "$tmp/check.txt")
height=$(sed -n 's/^HEIGHT //p' "$tmp/check.txt")
echo "check-report: $images images, $typeset of $maths formulas typeset, page $height px tall"
[ "${images:-0}" -gt 0 ] || problem "the page has no images"
while IFS= read -r line; do
  case "$line" in
    IMG_BROKEN*) problem "image did not decode: ${line#IMG_BROKEN }" ;;
    KATEX_ERROR*) problem "formula failed to render: ${line#KATEX_ERROR }" ;;
    RAW_TEX*) problem "raw TeX visible in the page: ${line#RAW_TEX }" ;;
    BROKEN_LINK*) problem "a link inside the page leads nowhere: ${line#BROKEN_LINK }" ;;
    JS_ERROR*|CONSOLE_ERROR*) problem "the page logged an error: $line" ;;
  esac
done < "$tmp/check.txt"
if [ "${maths:-0}" != "${typeset:-0}" ]; then
  if grep -q 'Formulas are shown as TeX source' "$html"; then
    problem "formulas are not typeset: KaTeX (libjs-katex) was missing when the report was written; install it and run report again"
  else
    problem "$((maths - typeset)) of $maths formulas were not typeset by KaTeX"
  fi
fi
# Chromium's own log of the page's console (it does not say the level):
# shown, and fatal when it holds an uncaught exception or an error.
if grep -q ':CONSOLE' "$tmp/console.log"; then
  echo "check-report: the page's console said:"
  grep ':CONSOLE' "$tmp/console.log" | sed 's/^[^]]*] /  /' | head -10
fi
if grep -E ':CONSOLE' "$tmp/console.log" | grep -Eiq 'uncaught|error'; then
  grep -E ':CONSOLE' "$tmp/console.log" | grep -Ei 'uncaught|error' | head -5 >&2
  problem "the page logged console errors (above)"
fi

shot=$dir/screenshot.png
height=${height:-8000}
if [ "$height" -gt 60000 ]; then height=60000; fi
chrome --virtual-time-budget=20000 --window-size="1200,$height" --screenshot="$(realpath "$dir")/screenshot.png" \
  "file://$(realpath "$html")" > /dev/null 2>&1 || problem "screenshot failed"
[ -s "$shot" ] && echo "check-report: full-page screenshot $shot (1200x$height)"

print_pdf() { # print_pdf HTML PDF: print as report --pdf does (A4, bookmarks from the headings)
  chrome --virtual-time-budget=20000 --run-all-compositor-stages-before-draw --no-pdf-header-footer \
    --generate-pdf-document-outline --print-to-pdf="$2" "file://$(realpath "$1")" > /dev/null 2>&1
}

# The PDF: printed here when report --pdf has not (or the HTML is newer).
if [ ! -s "$pdf" ] || [ "$html" -nt "$pdf" ]; then
  echo "check-report: printing $pdf"
  print_pdf "$html" "$(realpath "$dir")/report.pdf" || problem "printing the PDF failed"
fi
if [ -s "$pdf" ]; then
  pages=$(pdfinfo "$pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
  size=$(pdfinfo "$pdf" 2>/dev/null | sed -n 's/^Page size: *//p')
  echo "check-report: $pdf: ${pages:-0} pages, $size"
  [ "${pages:-0}" -gt 0 ] || problem "$pdf has no pages"
  case "$size" in *"595."*"x 841."*|*"595 x 842"*|*A4*) ;; *) problem "$pdf is not A4 ($size)" ;; esac
  if pdftotext "$pdf" - 2>/dev/null | grep -Eq '\\(mathcal|mathbb|frac|tfrac|operatorname)|\$\$'; then
    problem "raw TeX in the PDF's text: $(pdftotext "$pdf" - | grep -Em1 '\\(mathcal|mathbb|frac|tfrac|operatorname)|\$\$')"
  fi
  grep -aq '/Outlines' "$pdf" || problem "$pdf has no bookmarks (print it with --generate-pdf-document-outline)"
  for p in 1 2; do
    if [ "${pages:-0}" -ge "$p" ]; then
      pdftoppm -png -r 60 -f "$p" -l "$p" -singlefile "$pdf" "$dir/pdf-page-$p"
      echo "check-report: page $p rendered to $dir/pdf-page-$p.png"
    fi
  done
else
  problem "$pdf was not written"
fi

# Each part alone: a copy of the page with the other part hidden, printed
# and counted. The header and contents count as the main part.
part_pages() { # part_pages NAME CSS: the pages of the page printed with CSS added
  awk -v css="<style>$2</style>" '{print} !done && /<head>/ {print css; done=1}' "$html" > "$tmp/$1.html"
  print_pdf "$tmp/$1.html" "$tmp/$1.pdf" && pdfinfo "$tmp/$1.pdf" 2>/dev/null | sed -n 's/^Pages: *//p'
}
if grep -q 'class="report-main"' "$html" && grep -q 'class="report-appendices"' "$html"; then
  main_pages=$(part_pages main '.report-appendices{display:none}') || true
  appendix_pages=$(part_pages appendices 'body>:not(.report-appendices){display:none}.report-appendices{break-before:auto}') || true
  echo "check-report: main part: ${main_pages:-?} pages (at most $main_max); appendices: ${appendix_pages:-?} pages; report.pdf: ${pages:-?} pages"
  if [ -z "$main_pages" ] || [ -z "$appendix_pages" ]; then
    problem "printing the main part or the appendices alone failed"
  elif [ "$main_pages" -gt "$main_max" ]; then
    problem "the main part takes $main_pages pages, more than $main_max"
  fi
else
  problem "$html has no main part and appendices (class report-main, report-appendices): written by an older report?"
fi

if [ "$fail" != 0 ]; then
  echo "check-report: the report has problems (above)" >&2
  exit 1
fi
echo "check-report: OK"
