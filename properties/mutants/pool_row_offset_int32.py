from properties.mutants._kernel_patches import mutant

fill_draft_extend_metadata, fill_decode_metadata, fill_target_verify_metadata = mutant(__name__)
