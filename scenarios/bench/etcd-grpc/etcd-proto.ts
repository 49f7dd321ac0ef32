/**
 * The subset of etcd's v3 API (package etcdserverpb) the store benchmark drives: KV.Put,
 * KV.Range and Maintenance.Status, as proto3 text written from the published service, message
 * and field numbers (wire facts of etcd's rpc.proto and mvccpb's kv.proto), not copied from
 * upstream. Fields we never send or read are left out: protobuf skips unknown fields on decode.
 *
 * Decision: the text lives in a TS module, as the CRI proto does (nodeagent/runtime/cri/cri-proto.ts),
 * so the benchmark needs no file beside it; client.ts writes it out once for @grpc/proto-loader.
 */
export const etcdProtoText = String.raw`
syntax = "proto3";
package etcdserverpb;

service KV {
  rpc Range(RangeRequest) returns (RangeResponse) {}
  rpc Put(PutRequest) returns (PutResponse) {}
}

service Maintenance {
  rpc Status(StatusRequest) returns (StatusResponse) {}
}

message ResponseHeader {
  uint64 cluster_id = 1;
  uint64 member_id = 2;
  int64 revision = 3;
  uint64 raft_term = 4;
}

// mvccpb.KeyValue on etcd's side: only field numbers travel, so it may live in this package.
message KeyValue {
  bytes key = 1;
  int64 create_revision = 2;
  int64 mod_revision = 3;
  int64 version = 4;
  bytes value = 5;
  int64 lease = 6;
}

message RangeRequest {
  bytes key = 1;
  bytes range_end = 2;
  int64 limit = 3;
  int64 revision = 4;
  bool serializable = 7;
}

message RangeResponse {
  ResponseHeader header = 1;
  repeated KeyValue kvs = 2;
  bool more = 3;
  int64 count = 4;
}

message PutRequest {
  bytes key = 1;
  bytes value = 2;
  int64 lease = 3;
  bool prev_kv = 4;
}

message PutResponse {
  ResponseHeader header = 1;
  KeyValue prev_kv = 2;
}

message StatusRequest {}

message StatusResponse {
  ResponseHeader header = 1;
  string version = 2;
  int64 dbSize = 3;
  uint64 leader = 4;
  uint64 raftIndex = 5;
  uint64 raftTerm = 6;
}
`;
