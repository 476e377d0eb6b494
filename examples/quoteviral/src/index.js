// QuoteViral API: stores uploads in R2 and renders quote images with the Images binding.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const cors = {
      "Access-Control-Allow-Origin": env.FRONTEND_ORIGIN,
      "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
      "Access-Control-Allow-Headers": "Content-Type",
    };
    if (request.method === "OPTIONS") {
      return new Response(null, { status: 204, headers: cors });
    }
    if (url.pathname === "/health") {
      return Response.json({ ok: true }, { headers: cors });
    }
    if (url.pathname.startsWith("/templates/")) {
      const object = await env.TEMPLATES.get(url.pathname.slice("/templates/".length));
      if (object === null) return new Response("Not found", { status: 404, headers: cors });
      return new Response(object.body, { headers: cors });
    }
    return new Response("QuoteViral API", { headers: cors });
  },
};
