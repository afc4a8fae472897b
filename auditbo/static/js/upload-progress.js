// Shows upload progress for the import form, then a "checking" note while the server validates.
(function () {
  var form = document.querySelector("form[data-progress]");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var box = document.getElementById(form.getAttribute("data-progress"));
    var bar = box.querySelector(".progress-bar");
    var working = document.getElementById("upload-working");
    box.classList.remove("d-none");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.style.width = pct + "%";
        bar.textContent = pct + "%";
        if (pct === 100) { working.classList.remove("d-none"); }
      }
    });
    xhr.onload = function () {
      document.open();
      document.write(xhr.responseText);
      document.close();
    };
    xhr.send(new FormData(form));
  });
})();
