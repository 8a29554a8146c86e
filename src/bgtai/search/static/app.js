// The search page: text queries (GET /search), uploads (POST /search), results from /items/{id}.
// Results are built with DOM calls and textContent only: file names and texts never become HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function readAnswer(response) {
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON: described below */ }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : `the server answered ${response.status}`;
    throw new Error(detail);
  }
  return body;
}

function render(answer) {
  const list = $("results");
  list.replaceChildren();
  answer.results.forEach((hit, rank) => {
    const item = document.createElement("li");
    item.className = `result ${hit.modality}`;
    item.dataset.modality = hit.modality;
    const meta = document.createElement("div");
    meta.className = "meta";
    const left = document.createElement("span");
    left.textContent = `#${rank + 1} · ${hit.modality}`;
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = hit.score.toFixed(3);
    meta.append(left, score);
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = hit.name;
    name.title = hit.path;
    item.append(meta, name);
    if (hit.modality === "image") {
      const image = document.createElement("img");
      image.src = hit.url;
      image.alt = hit.name;
      image.loading = "lazy";
      item.append(image);
    } else if (hit.modality === "audio") {
      const player = document.createElement("audio");
      player.controls = true;
      player.preload = "none";
      player.src = hit.url;
      item.append(player);
    } else {
      const preview = document.createElement("div");
      preview.className = "preview";
      preview.textContent = hit.preview || "";
      item.append(preview);
    }
    list.append(item);
  });
  $("status").textContent = `${answer.results.length} result(s) for ${answer.modality} query "${answer.query}" in ${answer.ms} ms`;
}

async function run(request) {
  showError("");
  $("status").textContent = "searching…";
  try {
    render(await readAnswer(await request()));
  } catch (error) {
    $("results").replaceChildren();
    $("status").textContent = "";
    showError(error.message);
  }
}

function searchText(event) {
  event.preventDefault();
  const q = $("query").value.trim();
  if (!q) { showError("type something to search for"); return; }
  const params = new URLSearchParams({ q, k: $("k").value });
  if ($("modality").value) params.set("modality", $("modality").value);
  run(() => fetch(`/search?${params}`));
}

function searchFile(file) {
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  form.append("k", $("k").value);
  if ($("modality").value) form.append("modality", $("modality").value);
  run(() => fetch("/search", { method: "POST", body: form }));
}

function setUp() {
  $("text-form").addEventListener("submit", searchText);
  $("file").addEventListener("change", () => { searchFile($("file").files[0]); $("file").value = ""; });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    searchFile(event.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") $("file").click(); });
  fetch("/api/stats").then(readAnswer).then((stats) => {
    const parts = Object.entries(stats.by_modality).map(([name, count]) => `${count} ${name}`);
    $("stats").textContent = `${stats.items} items (${parts.join(", ") || "empty"}) · ${stats.model}`;
  }).catch((error) => showError(error.message));
}

document.addEventListener("DOMContentLoaded", setUp);
