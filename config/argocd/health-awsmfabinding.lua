-- Argo CD health check for vaultmfa.io/v1alpha1 AwsMfaBinding (vault-mfa-operator).
-- Argo CD runs it with the object as the table `obj`; see argocd-cm-patch.yaml for where it goes.
--
--   Healthy      Ready is True and describes the current generation.
--   Progressing  no status yet, a spec change not yet reconciled, being deleted, Ready Unknown,
--                or Ready False while the operator is still on its way (Reconciling,
--                WaitingForUser, WaitingForDevice, Deleting) or AWS asks it to slow down
--                (Throttled; retried by itself).
--   Degraded     Ready False for any other reason: the binding needs a person (InvalidSpec,
--                Conflict, AccessDenied, VaultDenied, ...). The operator keeps retrying those
--                that can heal, and Argo CD shows Healthy again once Ready is True.
-- The message is the Ready condition's reason and message.

local hs = {}

local progressing = {
  Reconciling = true,
  WaitingForUser = true,
  WaitingForDevice = true,
  Deleting = true,
  Throttled = true,
}

local function ready_condition()
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = c.reason or "Ready " .. tostring(c.status)
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

local ready = ready_condition()
local generation = obj.metadata.generation

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted: the operator removes the MFA device, the Vault key and the user it created"
  if ready ~= nil then
    hs.message = hs.message .. " (" .. describe(ready) .. ")"
  end
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report the binding's status"
  return hs
end

if generation ~= nil then
  local observed = obj.status.observedGeneration
  if observed == nil or observed < generation or (ready.observedGeneration ~= nil and ready.observedGeneration < generation) then
    hs.status = "Progressing"
    hs.message = "Waiting for the operator to reconcile generation " .. tostring(generation) .. " (last: " .. describe(ready) .. ")"
    return hs
  end
end

if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.status == "False" and not progressing[ready.reason] then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = describe(ready)
return hs
