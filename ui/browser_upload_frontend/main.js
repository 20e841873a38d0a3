// The Upload page's recording picker: the browser POSTs the file straight to S3 with the
// presigned POST the page makes, and reports back; the dashboard server never holds it.
// Streamlit's component protocol (postMessage), written out so nothing needs building.
(function () {
  "use strict";
  const input = document.getElementById("file");
  const button = document.getElementById("send");
  const fill = document.getElementById("fill");
  const status = document.getElementById("status");
  let args = {};
  let file = null;
  let requestId = null; // the upload this page asked the server to sign
  let started = null; // the signed upload already sent

  function post(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
  }
  function setValue(value) {
    post("streamlit:setComponentValue", { value: value, dataType: "json" });
  }
  const root = document.getElementById("root");
  function resize() {
    // The content's own height (the document's would include the frame's, and only grow).
    post("streamlit:setFrameHeight", { height: Math.ceil(root.getBoundingClientRect().bottom) + 4 });
  }
  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "status error" : "status";
    resize();
  }
  function size(bytes) {
    const units = ["bytes", "KiB", "MiB", "GiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }
  function s3Message(xhr) {
    const match = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
    return match ? match[1] : "";
  }

  input.addEventListener("change", function () {
    file = input.files && input.files.length ? input.files[0] : null;
    fill.style.width = "0";
    if (!file) { button.disabled = true; say(""); return; }
    if (args.max_bytes && file.size > args.max_bytes) {
      button.disabled = true;
      say(file.name + " is " + size(file.size) + ", larger than the " + size(args.max_bytes) + " limit.", true);
      return;
    }
    button.disabled = false;
    say(file.name + " — " + size(file.size));
  });

  button.addEventListener("click", function () {
    if (!file) { return; }
    requestId = String(Date.now()) + "-" + Math.random().toString(16).slice(2);
    button.disabled = true;
    input.disabled = true;
    say("Preparing the upload…");
    setValue({ event: "picked", id: requestId, name: file.name, size: file.size });
  });

  function upload(signed) {
    started = signed.id;
    const form = new FormData();
    Object.keys(signed.fields).forEach(function (name) { form.append(name, signed.fields[name]); });
    form.append("file", file); // S3 reads the file from the last field
    const xhr = new XMLHttpRequest();
    xhr.open("POST", signed.url);
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      fill.style.width = (100 * event.loaded / event.total).toFixed(1) + "%";
      say("Uploading to S3: " + size(event.loaded) + " of " + size(event.total));
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        fill.style.width = "100%";
        say("Uploaded " + size(file.size) + " to S3; the steps below show the rest.");
        setValue({ event: "uploaded", id: signed.id, key: signed.key });
      } else {
        say("S3 refused the upload (HTTP " + xhr.status + ").", true);
        setValue({ event: "error", id: signed.id, kind: "refused", status: xhr.status, message: s3Message(xhr) });
      }
    });
    xhr.addEventListener("error", function () {
      say("This browser could not reach the bucket.", true);
      setValue({ event: "error", id: signed.id, kind: "network", status: 0, message: "" });
    });
    xhr.send(form);
  }

  window.addEventListener("message", function (event) {
    if (!event.data || event.data.type !== "streamlit:render") { return; }
    args = event.data.args || {};
    if (args.accept) { input.accept = args.accept; }
    const signed = args.upload;
    if (signed && signed.id === requestId && started !== signed.id && file) { upload(signed); }
    if (args.problem && requestId && started !== requestId) {
      button.disabled = false;
      input.disabled = false;
      say(args.problem, true);
    }
    resize();
  });
  post("streamlit:componentReady", { apiVersion: 1 });
  resize();
}());
