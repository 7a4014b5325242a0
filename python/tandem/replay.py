"""A Python client of Tandem's replay server, over the same gRPC service actors and learners use.

    client = tandem.ReplayClient("127.0.0.1:50051", token=os.environ.get("TANDEM_AUTH_TOKEN"))
    client.info()                                   # spec, tables, rho, rate limiter
    client.insert(batch)                            # dict of NumPy arrays -> items stored
    batch = client.sample(256, offline_ratio=0.5)   # dict of NumPy arrays, keys, source, ...

A batch is a dict of NumPy arrays named as the TransitionBatch fields (proto/transition.proto):
obs [T, N, O], state [T, S], actions [T, N, A] float32 or [T, N] int32, avail_actions [T, N, K],
reward [T], terminated [T], truncated [T], next_obs, next_state, next_avail_actions; whole
episodes (tables of ITEM_KIND_EPISODE) use the episode layout instead: obs [E, L, N, O],
state [E, L, S], actions [E, L, N], avail_actions [E, L, N, K], reward [E, L], terminated [E, L],
filled [E, L]. Arrays are converted to the wire dtypes (float32, int32, uint8); the server validates
everything and refuses a bad batch with an error naming the field, raised here as ValueError.
"""

import grpc
import numpy as np

from tandem._proto import replay_service_pb2, replay_service_pb2_grpc, tensor_pb2, transition_pb2

_FIELDS = ("obs", "state", "actions", "avail_actions", "reward", "terminated", "truncated",
           "next_obs", "next_state", "next_avail_actions", "filled")
_FLOAT = ("obs", "state", "reward", "next_obs", "next_state")
_BYTES = ("avail_actions", "terminated", "truncated", "next_avail_actions", "filled")
_NUMPY = {
    tensor_pb2.DTYPE_FLOAT32: np.float32,
    tensor_pb2.DTYPE_FLOAT64: np.float64,
    tensor_pb2.DTYPE_INT32: np.int32,
    tensor_pb2.DTYPE_INT64: np.int64,
    tensor_pb2.DTYPE_UINT8: np.uint8,
    tensor_pb2.DTYPE_BOOL: np.bool_,
}
_WIRE = {np.dtype(np.float32): tensor_pb2.DTYPE_FLOAT32, np.dtype(np.int32): tensor_pb2.DTYPE_INT32,
         np.dtype(np.uint8): tensor_pb2.DTYPE_UINT8}
# gRPC status codes raised as ValueError: the request was wrong.
_CALLER_ERRORS = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                  grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.RESOURCE_EXHAUSTED)


class ReplayError(RuntimeError):
    """A replay-server call failed; `code` is the gRPC status code."""

    def __init__(self, code, message):
        super().__init__(f"{code.name}: {message}")
        self.code = code


class ReplayValueError(ValueError):
    """The server refused the request as invalid; `code` is the gRPC status code."""

    def __init__(self, code, message):
        super().__init__(f"{code.name}: {message}")
        self.code = code


def _raise(error):
    code, message = error.code(), error.details()
    if code in _CALLER_ERRORS:
        raise ReplayValueError(code, message) from None
    raise ReplayError(code, message) from None


def to_tensor(array, name):
    """A NumPy array as a wire Tensor (row-major, little-endian)."""
    array = np.asarray(array)
    if name in _FLOAT:
        wire = np.dtype(np.float32)
    elif name in _BYTES:
        wire = np.dtype(np.uint8)
    elif name == "actions":
        wire = np.dtype(np.int32) if array.dtype.kind in "iub" else np.dtype(np.float32)
    else:
        raise ValueError(f"unknown batch field {name!r}; fields are {', '.join(_FIELDS)}")
    array = np.ascontiguousarray(array, dtype=wire.newbyteorder("<"))
    return tensor_pb2.Tensor(dtype=_WIRE[wire], shape=list(array.shape), data=array.tobytes())


def from_tensor(tensor):
    """A wire Tensor as a NumPy array (a view of the message's bytes, read-only)."""
    dtype = np.dtype(_NUMPY[tensor.dtype]).newbyteorder("<")
    return np.frombuffer(tensor.data, dtype=dtype).reshape(tuple(tensor.shape))


def to_batch(batch):
    """A dict of NumPy arrays as a TransitionBatch message."""
    message = transition_pb2.TransitionBatch()
    for name, array in batch.items():
        if name not in _FIELDS:
            raise ValueError(f"unknown batch field {name!r}; fields are {', '.join(_FIELDS)}")
        getattr(message, name).CopyFrom(to_tensor(array, name))
    return message


def from_batch(message):
    """A TransitionBatch message as a dict of NumPy arrays (absent fields left out)."""
    return {name: from_tensor(getattr(message, name)) for name in _FIELDS
            if message.HasField(name) and len(getattr(message, name).shape) > 0}


class ReplayClient:
    """Inserts into and samples from a Tandem replay server (`tandem replay`, `tandem run`)."""

    def __init__(self, address, token=None, timeout=30.0):
        options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
        self._channel = grpc.insecure_channel(address, options=options)
        self._stub = replay_service_pb2_grpc.ReplayServiceStub(self._channel)
        self._metadata = [("authorization", f"Bearer {token}")] if token else []
        self._timeout = timeout
        self._sequence = 0

    def info(self):
        """The server's spec, tables and sampling settings, as a dict."""
        try:
            response = self._stub.ServerInfo(replay_service_pb2.ServerInfoRequest(),
                                              metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            _raise(error)
        spec = response.spec
        return {
            "spec": {
                "num_agents": spec.num_agents, "obs_size": spec.obs_size,
                "agent_obs_sizes": list(spec.agent_obs_sizes), "state_size": spec.state_size,
                "action_type": ("discrete" if spec.action_type == transition_pb2.ACTION_TYPE_DISCRETE
                                else "continuous"),
                "action_size": spec.action_size, "has_avail_actions": spec.has_avail_actions,
                "env_name": spec.env_name, "episode_steps": spec.episode_steps,
            },
            "tables": {
                t.name: {"size": t.size, "capacity": t.capacity, "inserted_total": t.inserted_total,
                         "inserted_steps": t.inserted_steps, "sampled_total": t.sampled_total,
                         "selector": t.selector, "writable": t.writable}
                for t in response.tables
            },
            "offline_ratio": response.offline_ratio,
            "samples_per_insert": response.samples_per_insert,
            "min_size_to_sample": response.min_size_to_sample,
        }

    def insert(self, batches, table="", priorities=None):
        """Inserts one batch (a dict) or a list of them over one stream; returns the items stored.

        `priorities` (one per item, for a prioritized table) applies to a single batch.
        """
        if isinstance(batches, dict):
            batches = [batches]
        requests = []
        for i, batch in enumerate(batches):
            self._sequence += 1
            request = replay_service_pb2.InsertRequest(batch=to_batch(batch),
                                                       sequence=self._sequence, table=table)
            if priorities is not None:
                if len(batches) != 1:
                    raise ValueError("priorities apply to a single batch")
                request.priorities.extend(float(p) for p in np.asarray(priorities).ravel())
            requests.append(request)
        stored = 0
        try:
            for ack in self._stub.Insert(iter(requests), metadata=self._metadata,
                                         timeout=self._timeout):
                stored += ack.stored_transitions
        except grpc.RpcError as error:
            _raise(error)
        return stored

    def sample(self, batch_size, offline_ratio=None, offline_table="", online_table="",
               timeout_ms=10000):
        """One sampled batch: the TransitionBatch fields plus keys, source (1 offline, 2 online) and
        probabilities, as NumPy arrays."""
        return next(self.samples(batch_size, 1, offline_ratio, offline_table, online_table,
                                 timeout_ms))

    def samples(self, batch_size, num_batches=0, offline_ratio=None, offline_table="",
                online_table="", timeout_ms=10000):
        """A stream of sampled batches (num_batches 0: until the caller stops iterating)."""
        request = replay_service_pb2.SampleRequest(
            batch_size=batch_size, num_batches=num_batches, rate_limiter_timeout_ms=timeout_ms,
            offline_table=offline_table, online_table=online_table)
        if offline_ratio is not None:
            request.offline_ratio = offline_ratio
        stream = self._stub.Sample(request, metadata=self._metadata)
        try:
            for response in stream:
                sampled = response.batch
                out = from_batch(sampled.transitions)
                out["keys"] = from_tensor(sampled.keys)
                out["source"] = from_tensor(sampled.source)
                out["probabilities"] = from_tensor(sampled.probabilities)
                yield out
        except grpc.RpcError as error:
            _raise(error)
        finally:
            stream.cancel()

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
