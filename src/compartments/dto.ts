import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsOptional, IsUUID } from 'class-validator';

export class OpenCompartmentDto {
  @ApiProperty({ type: [String], required: false, description: 'Clearing-house staff to name on it (officers or managers)' })
  @IsOptional() @IsArray() @ArrayMaxSize(20) @ArrayUnique() @IsUUID('all', { each: true })
  staffIds?: string[];
}

export class NameCompartmentStaffDto {
  @ApiProperty({ format: 'uuid', description: 'A clearing-house officer or manager' })
  @IsUUID()
  userId: string;
}

export class PlaceRecordDto {
  @ApiProperty({ format: 'uuid', description: 'A conversation record you recorded on this case' })
  @IsUUID()
  recordId: string;
}

export class CompartmentIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class CompartmentStaffParam extends CompartmentIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  userId: string;
}

export class CompartmentStaffDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() displayName: string;
  @ApiProperty() addedAt: string;
}

export class CompartmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ format: 'uuid', description: 'The lead political peer whose compartment it is' }) peerId: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: [CompartmentStaffDto] }) staff: CompartmentStaffDto[];
  @ApiProperty({ type: [String], description: 'Conversation records placed in it' }) recordIds: string[];
}
