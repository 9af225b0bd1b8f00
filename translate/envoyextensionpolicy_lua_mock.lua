-- egctl's stand-in for the objects Envoy's Lua filter hands a script, used to
-- run envoy_on_request / envoy_on_response once at compile time (luaValidation
-- Strict). Each object has the methods Envoy's Lua API documents (the union
-- of recent Envoy versions, so a method that exists in Envoy is never refused
-- here); any other name is an error that names the object and the method.
-- Methods check that they are called with ':' and that string arguments are
-- strings (or numbers, which Lua converts). Values returned have the type
-- Envoy returns; a header that was never set reads as nil, as in Envoy.

local function argstr(what, i, v, optional)
  local t = type(v)
  if t == "string" or t == "number" or (optional and v == nil) then
    return
  end
  error(string.format("bad argument #%d to '%s' (string expected, got %s)", i, what, t), 4)
end

local function argnum(what, i, v, optional)
  if type(v) == "number" or (optional and v == nil) then
    return
  end
  if type(v) == "string" and tonumber(v) ~= nil then
    return
  end
  error(string.format("bad argument #%d to '%s' (number expected, got %s)", i, what, type(v)), 4)
end

local function argtable(what, i, v, optional)
  if type(v) == "table" or (optional and v == nil) then
    return
  end
  error(string.format("bad argument #%d to '%s' (table expected, got %s)", i, what, type(v)), 4)
end

-- object builds an Envoy object of the given kind from its methods; each
-- method receives the object's name (for messages) and the arguments.
local function object(kind, methods, iter)
  local o = {}
  local mt = {}
  mt.__index = function(self, key)
    local m = methods[key]
    if m == nil then
      error(string.format("%s has no method '%s' in Envoy's Lua API", kind, tostring(key)), 2)
    end
    return function(this, ...)
      if this ~= self then
        error(string.format("%s:%s must be called with ':', not '.'", kind, tostring(key)), 2)
      end
      return m(kind .. ":" .. key, ...)
    end
  end
  mt.__newindex = function(_, key)
    error(string.format("cannot set field '%s' of %s", tostring(key), kind), 2)
  end
  mt.__tostring = function() return kind end
  mt.__pairs = iter
  return setmetatable(o, mt)
end

-- pairs honours __pairs, as LuaJIT's 5.2 compatibility does: Envoy's
-- header maps and metadata are iterated with pairs().
local rawpairs = pairs
pairs = function(t)
  local mt = getmetatable(t)
  if type(mt) == "table" and mt.__pairs then
    return mt.__pairs(t)
  end
  return rawpairs(t)
end

local function headerMap(kind, initial, writable)
  local names, values = {}, {}
  local function set(k, v, append)
    k = string.lower(tostring(k))
    if values[k] == nil then
      table.insert(names, k)
      values[k] = {}
    end
    if not append then
      values[k] = {}
    end
    table.insert(values[k], tostring(v))
  end
  for _, kv in ipairs(initial) do
    set(kv[1], kv[2], true)
  end
  local m = {
    get = function(what, k)
      argstr(what, 1, k)
      local v = values[string.lower(tostring(k))]
      if v == nil or #v == 0 then return nil end
      return table.concat(v, ",")
    end,
    getAtIndex = function(what, k, i)
      argstr(what, 1, k)
      argnum(what, 2, i)
      local v = values[string.lower(tostring(k))]
      if v == nil then return nil end
      return v[tonumber(i) + 1]
    end,
    getNumValues = function(what, k)
      argstr(what, 1, k)
      local v = values[string.lower(tostring(k))]
      if v == nil then return 0 end
      return #v
    end,
  }
  if writable then
    m.add = function(what, k, v)
      argstr(what, 1, k)
      argstr(what, 2, v)
      set(k, v, true)
    end
    m.replace = function(what, k, v)
      argstr(what, 1, k)
      argstr(what, 2, v)
      set(k, v, false)
    end
    m.remove = function(what, k)
      argstr(what, 1, k)
      values[string.lower(tostring(k))] = {}
    end
    m.setHttp1ReasonPhrase = function(what, p)
      argstr(what, 1, p)
    end
  end
  local function iter()
    local i, j = 1, 0
    return function()
      while names[i] ~= nil do
        local vs = values[names[i]]
        j = j + 1
        if vs[j] ~= nil then
          return names[i], vs[j]
        end
        i, j = i + 1, 0
      end
      return nil
    end
  end
  return object(kind, m, iter)
end

local function buffer()
  local data = ""
  return object("body", {
    length = function() return #data end,
    getBytes = function(what, index, length)
      argnum(what, 1, index)
      argnum(what, 2, length)
      index, length = tonumber(index), tonumber(length)
      if index < 0 or length < 0 or index + length > #data then
        error(string.format("%s: index/length (%d, %d) out of range for a body of %d bytes", what, index, length, #data), 3)
      end
      return string.sub(data, index + 1, index + length)
    end,
    setBytes = function(what, s)
      argstr(what, 1, s)
      data = tostring(s)
      return #data
    end,
  })
end

local function metadataMap(kind, writable)
  local store = {}
  local m = {
    get = function(what, k)
      argstr(what, 1, k)
      return store[k]
    end,
  }
  if writable then
    m.set = function(what, ns, k, v)
      argstr(what, 1, ns)
      if store[ns] == nil then store[ns] = {} end
      store[ns][k] = v
    end
  end
  return object(kind, m, function() return next, store, nil end)
end

local function sslConnection()
  local function s() return "" end
  local function list() return {} end
  local function yes() return true end
  return object("ssl connection", {
    peerCertificatePresented = yes, peerCertificateValidated = yes,
    uriSanLocalCertificate = list, sha256PeerCertificateDigest = s, serialNumberPeerCertificate = s,
    issuerPeerCertificate = s, subjectPeerCertificate = s, parsedSubjectPeerCertificate = function() return {} end,
    uriSanPeerCertificate = list, subjectLocalCertificate = s, dnsSansPeerCertificate = list,
    dnsSansLocalCertificate = list, oidsPeerCertificate = list, oidsLocalCertificate = list,
    validFromPeerCertificate = function() return 0 end, expirationPeerCertificate = function() return 0 end,
    sessionId = s, ciphersuiteId = s, ciphersuiteString = s, tlsVersion = s,
    urlEncodedPemEncodedPeerCertificate = s, urlEncodedPemEncodedPeerCertificateChain = s,
  })
end

local function streamInfo()
  local function addr() return "127.0.0.1:10080" end
  local function s() return "" end
  return object("stream info", {
    protocol = function() return "HTTP/1.1" end,
    dynamicMetadata = (function() local d = metadataMap("dynamic metadata", true); return function() return d end end)(),
    dynamicTypedMetadata = function(what, name) argstr(what, 1, name); return {} end,
    filterState = (function()
      local fs = object("filter state", {
        get = function(what, name, field) argstr(what, 1, name); argstr(what, 2, field, true); return nil end,
        set = function(what, key, factory, bytes) argstr(what, 1, key); argstr(what, 2, factory); argstr(what, 3, bytes) end,
      })
      return function() return fs end
    end)(),
    downstreamDirectLocalAddress = addr, downstreamLocalAddress = addr,
    downstreamDirectRemoteAddress = addr, downstreamRemoteAddress = addr,
    downstreamSslConnection = (function() local c = sslConnection(); return function() return c end end)(),
    requestedServerName = s, routeName = s, virtualClusterName = s,
    drainConnectionUponCompletion = function() end,
  })
end

local function handle(kind, initial, response)
  local h = headerMap("headers", initial, true)
  local trailers = headerMap("trailers", {}, true)
  local body = buffer()
  local md = metadataMap("metadata", false)
  local si = streamInfo()
  local function log(what, msg) argstr(what, 1, msg) end
  local m = {
    headers = function() return h end,
    body = function(what, always) return body end,
    bodyChunks = function() return function() return nil end end,
    trailers = function() return trailers end,
    metadata = function() return md end,
    logTrace = log, logDebug = log, logInfo = log, logWarn = log, logErr = log, logCritical = log,
    httpCall = function(what, cluster, headers, body, opts, async)
      argstr(what, 1, cluster)
      argtable(what, 2, headers)
      argstr(what, 3, body, true)
      if type(opts) ~= "table" then argnum(what, 4, opts) end
      return { [":status"] = "200" }, ""
    end,
    respond = function(what, headers, body)
      if response then
        error("respond() is not supported in envoy_on_response", 3)
      end
      argtable(what, 1, headers)
      argstr(what, 2, body, true)
    end,
    streamInfo = function() return si end,
    connectionStreamInfo = function() return si end,
    connection = (function()
      local c = object("connection", { ssl = function() return sslConnection() end })
      return function() return c end
    end)(),
    importPublicKey = function(what, key, len) argstr(what, 1, key); return object("public key", {}) end,
    verifySignature = function(what, hash, key, sig, siglen, data, datalen) argstr(what, 1, hash); return true, "" end,
    base64Escape = function(what, s) argstr(what, 1, s); return "" end,
    timestamp = function() return 0 end,
    timestampString = function() return "0" end,
    setUpstreamOverrideHost = function(what, host, strict) argstr(what, 1, host) end,
    clearRouteCache = function() end,
    filterContext = (function() local c = metadataMap("filter context", false); return function() return c end end)(),
    virtualHost = function() return object("virtual host", { metadata = function() return metadataMap("virtual host metadata", false) end }) end,
    route = function() return object("route", { metadata = function() return metadataMap("route metadata", false) end }) end,
    stats = function()
      local counter = function() return object("counter", { inc = function() end, add = function() end }) end
      return object("stats scope", { counter = counter, gauge = counter, histogram = counter })
    end,
  }
  if response then
    local req = headerMap("downstream request headers", { { ":path", "/" }, { ":method", "GET" }, { ":authority", "example.com" }, { ":scheme", "http" } }, false)
    m.downstreamRequestHeaders = function() return req end
  end
  return object(kind, m)
end

__egctl_request_handle = handle("request handle", { { ":path", "/" }, { ":method", "GET" }, { ":authority", "example.com" }, { ":scheme", "http" } }, false)
__egctl_response_handle = handle("response handle", { { ":status", "200" } }, true)
