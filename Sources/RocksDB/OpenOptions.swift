import CRocksDB

/// Owns a `rocksdb_options_t` built from `Database.Options` with one compression.
final class OpenOptions {
    let pointer: OpaquePointer

    init(_ options: Database.Options, compression: Compression) {
        pointer = rocksdb_options_create()
        rocksdb_options_set_create_if_missing(pointer, 1)
        rocksdb_options_set_create_missing_column_families(pointer, 1)
        rocksdb_options_set_paranoid_checks(pointer, options.paranoidChecks ? 1 : 0)
        rocksdb_options_set_compression(pointer, compression.rawCode)
        rocksdb_options_set_write_buffer_size(pointer, options.writeBufferSize)
        rocksdb_options_set_db_write_buffer_size(pointer, options.totalWriteBufferSize)
        rocksdb_options_increase_parallelism(pointer, Int32(max(1, options.backgroundThreads)))
        rocksdb_options_set_level_compaction_dynamic_level_bytes(pointer, 1)
        rocksdb_options_set_keep_log_file_num(pointer, 5)
        rocksdb_options_set_disable_auto_compactions(pointer, options.autoCompactions ? 0 : 1)
        if options.bloomBitsPerKey > 0 || options.boundedBlockCache != nil {
            let table = rocksdb_block_based_options_create()
            if options.bloomBitsPerKey > 0 {
                // The table options take ownership of the policy; the factory copies the table options.
                rocksdb_block_based_options_set_filter_policy(
                    table, rocksdb_filterpolicy_create_bloom_full(options.bloomBitsPerKey))
            }
            if let capacity = options.boundedBlockCache {
                // The table options share the cache (a shared pointer): this handle can go.
                let cache = rocksdb_cache_create_lru(capacity)
                rocksdb_block_based_options_set_block_cache(table, cache)
                rocksdb_cache_destroy(cache)
                rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1)
                rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1)
            }
            rocksdb_options_set_block_based_table_factory(pointer, table)
            rocksdb_block_based_options_destroy(table)
        }
    }

    deinit { rocksdb_options_destroy(pointer) }
}
